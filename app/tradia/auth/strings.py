"""The sign-in pages' words, in French and English (the page picks by `lang`, then by
Accept-Language)."""

from __future__ import annotations

from starlette.requests import Request

LANGUAGES = ("fr", "en")

STRINGS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Connexion",
        "intro": "Connectez-vous pour utiliser Tradia.",
        "username": "Identifiant",
        "password": "Mot de passe",
        "submit": "Se connecter",
        "provider": "Se connecter avec {provider}",
        "expired": "Votre session a expiré : reconnectez-vous.",
        "signed_out": "Vous êtes déconnecté.",
        "invalid": "Identifiant ou mot de passe incorrect.",
        "missing": "Saisissez votre identifiant et votre mot de passe.",
        "rate_limited": "Trop de tentatives : réessayez dans {seconds} secondes.",
        "directory_down": (
            "L'annuaire est injoignable : la connexion est impossible pour le moment."
            " Réessayez dans un instant ; si cela persiste, prévenez l'administrateur."
        ),
        "provider_down": (
            "Le service d'authentification ({provider}) est injoignable : la connexion est"
            " impossible pour le moment. Réessayez dans un instant ; si cela persiste, prévenez"
            " l'administrateur."
        ),
        "sign_in_failed": "La connexion n'a pas abouti. Recommencez.",
        "denied_title": "Accès non autorisé",
        "denied": (
            "Votre compte ({user}) n'appartient pas aux groupes autorisés à utiliser Tradia."
            " Demandez l'accès à l'administrateur."
        ),
        "back": "Revenir à la connexion",
        "logout_title": "Déconnexion",
        "logout_continue": "Terminer la déconnexion chez {provider}",
        "switch": "English",
    },
    "en": {
        "title": "Sign in",
        "intro": "Sign in to use Tradia.",
        "username": "User name",
        "password": "Password",
        "submit": "Sign in",
        "provider": "Sign in with {provider}",
        "expired": "Your session has expired: sign in again.",
        "signed_out": "You are signed out.",
        "invalid": "Wrong user name or password.",
        "missing": "Enter your user name and password.",
        "rate_limited": "Too many attempts: try again in {seconds} seconds.",
        "directory_down": (
            "The directory cannot be reached: signing in is not possible right now. Try again"
            " in a moment; if it lasts, tell the administrator."
        ),
        "provider_down": (
            "The sign-in service ({provider}) cannot be reached: signing in is not possible"
            " right now. Try again in a moment; if it lasts, tell the administrator."
        ),
        "sign_in_failed": "Signing in did not complete. Start again.",
        "denied_title": "Access not allowed",
        "denied": (
            "Your account ({user}) is not in the groups allowed to use Tradia. Ask the"
            " administrator for access."
        ),
        "back": "Back to sign-in",
        "logout_title": "Sign out",
        "logout_continue": "Finish signing out at {provider}",
        "switch": "Français",
    },
}


def pick_language(request: Request) -> str:
    """`?lang=` first, then the browser's Accept-Language order, then French."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    ranked: list[tuple[float, str]] = []
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        code = tag.strip().lower()[:2]
        if code in LANGUAGES:
            ranked.append((quality, code))
    ranked.sort(key=lambda item: -item[0])
    return ranked[0][1] if ranked else "fr"
