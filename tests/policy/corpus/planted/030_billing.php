<?php

namespace App\Billing;

function connect(): void
{
$upstream = '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';
$upstream = 'xoxb-18771570448-34671356451-72UM1tz1uFEd4OxQyXQxJOj8';
$upstream = 'https://hooks.slack.com/services/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';
    error_log('connected');
}
