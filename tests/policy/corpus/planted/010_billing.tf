resource "example_service" "billing" {
  name    = "billing"
  region  = "eu-west-1"
  client_id_b = "sk-proj-Jt4GP64wqnEejE_duVg38VX20EZ1O8eVoJZeRikAJNTvN-R5"
  pwd = "GCFnl15!n1qJ2F3zG_"
  private_key = "-----BEGIN RSA PRIVATE KEY-----\nh7Xtc4acM1gSNS1zKPJzM3Y4qGqByLeinVgb6fvvrJYrSomU9hK/H3IUP+lqUTLh\nEknG4hV0FcnRgSyIS3psaLzjIsHwkp3bycCGknVVpHbG8rAEg3q2JlEg82pwI0kA\n1P77AY7ejS7sQAirdTC6XbuUlnKn5NpsJ5m1RR5RNh2TiWrXcdWoD14ELdClADBa\nkrWL9FuU7KWP2q08MgRAChKbe9NKl9n7M5l6O6Yw56Ay0LIdJJUHx8n19LRH6kA6\nCRVs/gJeB3JklRmwLRfA+PLIoFvsGlUhOi4CJQjAVhsCBSKuUBXePpjcpaeFSe5e\nM26SRg9xstompc1Iic05is3wWoPkz0At9iU4QTC+4qrns9D5Mopr7pfCKzSfUwZj\ncbwSErYBm0ouO50YHF5LesIwBy6Bg0TuTzf1tGsE9GLZW3nR3H1HIsuBy+bkBl5p\nR8VAr0+UnPKWuTcMb5XWKNfI20T+IJq/CJS39vilRfCbRcSLJBKcs1mNrQlMJfFG\n-----END RSA PRIVATE KEY-----"
}
