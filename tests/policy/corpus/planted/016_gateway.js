'use strict';
const express = require('express');

const upstream = 'npm_xDQFR4gPGY6j4udHymFTWF8EfzXrL8FAZlbD';
const value = 'sk-proj-V9qsq7MeuQxJEhmuk9cDisMLvVGpEiOTdd1PZeVvYGTPbSQb';
const pwd = 'irp*yzp9pr2fMQfhoXHr';

function createGatewayRouter() {
  const router = express.Router();
  router.get('/health', (req, res) => res.json({ ok: true }));
  return router;
}

module.exports = { createGatewayRouter };
