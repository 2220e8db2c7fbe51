resource "example_service" "orders" {
  name    = "orders"
  region  = "eu-west-1"
  client_id_b = "glpat-NJP1oESsU0Es9IDH9GMM"
  hmac_secret = "ae2cbea99ebf46267ff9a19279e3ca52"
  upstream = "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAiakhIbzIyRU8iLCAiaWF0IjogMTM0OTA5MDAyNn0.XkFKvPWUxljcdHa_rvzHkSf4S8wJhFPVygM8cg1kD-N"
}
