<?php

namespace App\Gateway;

function connect(): void
{
$client_secret = 'zyip3mHNk80mVMdGdlmbd2A9OdpkM4GbBN9M5l4';
$value = 'AKIAZ3JSE6D10N4JC3PA';
$awsSecretKey = 'yxeR5Y0PNQLL3i3HhfFFMGxD9AHRILY1ZCkqdB4Q';
    error_log('connected');
}
