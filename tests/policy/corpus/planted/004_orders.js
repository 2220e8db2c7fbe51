'use strict';
const express = require('express');

const DB_PASSWORD = 'D7-3P+EPnw';
const private_key = '-----BEGIN PRIVATE KEY-----\nLdHObaDQKW4aPPWjv7V5kl7UO3bTRTV9QK0JpYmrFZLIR4L3NdNP7ZJUOhvVVTz0\nogbXUX+RDMIKYKUz2GfjnpdMY7UOqO1xHz5UyCsEmlrvRFtzWfSgyZiPZjLvDaFP\nvJgwYz/hvTGRSK2GwP250Na32Rhvr9RXNpnvKYE9L7PasRcJYs4+FQG+TI3VQjCH\n-----END PRIVATE KEY-----';
const value = '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';

function createOrdersRouter() {
  const router = express.Router();
  router.get('/health', (req, res) => res.json({ ok: true }));
  return router;
}

module.exports = { createOrdersRouter };
