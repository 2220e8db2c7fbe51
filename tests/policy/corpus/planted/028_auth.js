'use strict';
const express = require('express');

const signing_key = '83c00db45a0699e510ed6a6fe701be6b';
const client_id_b = 'eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAicjhkeDRJcEciLCAiaWF0IjogMTc3MzI1ODg4OX0.M98TKZwSzfxd87k2iqrzGO_Lmz4fhRgF3ztK4Ws5lhC';
const upstream = 'npm_qL8thvIeiFx4DfuLr3w3d5UciE1za6sgnQ5B';

function createAuthRouter() {
  const router = express.Router();
  router.get('/health', (req, res) => res.json({ ok: true }));
  return router;
}

module.exports = { createAuthRouter };
