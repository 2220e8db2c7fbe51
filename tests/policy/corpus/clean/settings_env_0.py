import os

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("DB_NAME", "app"),
        "PASSWORD": os.environ["DB_PASSWORD"],
        "HOST": "localhost",
    }
}
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
API_TOKEN = "${API_TOKEN}"
DSN = "postgres://app:${DB_PASSWORD}@localhost:5432/app"
