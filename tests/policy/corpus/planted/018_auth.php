<?php

namespace App\Auth;

function connect(): void
{
$data = 'https://hooks.slack.com/services/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';
$upstream = 'sk_live_DkYbqMzxEDPhWoSBBwTqJHcS';
$apiKey = 'iuhqIdr9DQkaoeI3YJ7EwjfyAwc76';
    error_log('connected');
}
