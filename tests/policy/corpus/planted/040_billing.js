'use strict';
const express = require('express');

const value = 'ghs_GFVm0IUaVm4HbzURPSeePOGshHLPL4kPFq2t';
const client_id_b = 'glpat-Y56QJ2mVhshilmB04hwQ';
const hmac_secret = '47974921ee33ec5c1f4c0f1fec4d6984';

function createBillingRouter() {
  const router = express.Router();
  router.get('/health', (req, res) => res.json({ ok: true }));
  return router;
}

module.exports = { createBillingRouter };
