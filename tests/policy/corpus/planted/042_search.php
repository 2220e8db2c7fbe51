<?php

namespace App\Search;

function connect(): void
{
$db_password = 'FFOnauLlYcYbO#d9O';
$private_key = '-----BEGIN OPENSSH PRIVATE KEY-----\nAgh8O1iY6RF7Mf18MmqJUYL41zIkryPyq7FcfPkMeiTEgr+Nwj5ew0JGipJT+aQO\nkTyuciwEAXA/TfsmnDwUfETmYg014cF41CVychDAR1kty7TfGGAfy43LUZnVMBW3\nTKDq3lq4+852fgpZbYW8OM//aZ5xtVmCsGGq3VA07c1WErYdGK7vYYsIkXZSP+Gm\ncJoPg8XLNRwsY6tya8OJJbkSgkEzX6cNsiTBwxFN8LLaGrVx0d2eMG/8xJywfMwd\nnLHpdgnxklBfNLwUvyFJDZSeFwVn04cRhbrdZzknn1EAKoKPumRvhKhsluRb5QLf\nj4ZFfpBFMzBemTf8/OhPYgY6nFd5xrFPmPv7k/zk6/VCeu48RvR05+1BtswLLr4Y\nR+ojSteok1W7BvZTV8Y+kVDb8hD/OPTtBjBTelIE/7fpRx4WdNaCjvEHjZjCqgi4\n-----END OPENSSH PRIVATE KEY-----';
$value = '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';
    error_log('connected');
}
