// `express4` is an npm alias of express@4, installed to run the middleware specs on both majors.
declare module 'express4' {
  import express = require('express');
  export = express;
}
