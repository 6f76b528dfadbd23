// Small DOM helpers. Data is only ever written with textContent (never innerHTML).
export const $ = (id) => document.getElementById(id);

export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'text') node.textContent = v;
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

export const show = (node, visible) => {
  node.hidden = !visible;
};

/** Says `msg` to screen readers (polite live region). */
export const announce = (msg) => {
  $('status').textContent = msg;
};

/** The page-wide error banner; '' hides it. */
export const banner = (msg) => {
  $('banner').textContent = msg || '';
  show($('banner'), Boolean(msg));
};

/** A field's error line; '' hides it. */
export const fieldError = (id, msg) => {
  $(id).textContent = msg || '';
  show($(id), Boolean(msg));
};
