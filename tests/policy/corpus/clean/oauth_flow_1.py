TOKEN_URL = "https://oauth2.example.com/token"


def refresh(session, refresh_token):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    response = session.post(TOKEN_URL, data=data)
    token = response.json()["access_token"]
    return token


headers = {"Authorization": f"Bearer {token}"}
api_key = os.environ["SERVICE_API_KEY"]
password = os.getenv("DB_PASSWORD", "")
secret = settings.SECRET_KEY
