MIN_PASSWORD_LENGTH = 12


def validate_password(password: str) -> list[str]:
    errors = []
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.append("Password must be at least 12 characters.")
    if password == password.lower():
        errors.append("Password needs an uppercase letter.")
    return errors


def change_password(user, old_password, new_password):
    if not user.check_password(old_password):
        raise PermissionError("wrong password")
    user.set_password(new_password)
