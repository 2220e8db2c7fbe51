resource "example_service" "search" {
  name    = "search"
  region  = "eu-west-1"
  value = "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAibGZ4M1ViQUUiLCAiaWF0IjogMTE5MTAyMjE4Mn0.Gwm3Tpz4r47tXMA2vancRoP0P_IPIn3NRaJa0hlTOl4"
  value = "npm_A1jImzfyPMYv1foyxZ1f5EOpzZMAYT9AMZlf"
  upstream = "sk-proj-wjkMbUXkZoq_K_MeH678debDiXWAWNv5_olehwqbMry9NzH3"
}
