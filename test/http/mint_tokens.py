#!/usr/bin/env python3
"""Mints the JWT test vectors with PyJWT (Debian's python3-jwt), an implementation
independent of asioctx: valid tokens for every supported algorithm and the classic
attacks. Writes JSON: {"keys": {...}, "tokens": [{"name", "token", "expect"}]}.

Usage: mint_tokens.py OUTPUT.json
"""
import base64
import json
import sys
import time

import jwt
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

now = int(time.time())
hs256 = "h" * 32
hs384 = "k" * 48
hs512 = "s" * 64
rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ec_key = ec.generate_private_key(ec.SECP256R1())
other_ec = ec.generate_private_key(ec.SECP256R1())


def pem(key):
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**extra):
    c = {"sub": "ada", "iss": "https://issuer.test", "aud": "api", "exp": now + 3600,
         "iat": now - 10, "scope": "read write"}
    c.update(extra)
    return {k: v for k, v in c.items() if v is not None}


def raw(header, payload, sign=None):
    """A token framed by hand, for what PyJWT refuses to produce."""
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    sig = sign(signing_input.encode()) if sign else b""
    return signing_input + "." + b64(sig)


def hmac_sha256(secret):
    def sign(data):
        h = hmac.HMAC(secret, hashes.SHA256())
        h.update(data)
        return h.finalize()
    return sign


tokens = []


def add(name, token, expect):
    tokens.append({"name": name, "token": token, "expect": expect})


add("hs256 valid", jwt.encode(claims(), hs256, algorithm="HS256"), "ok")
add("hs384 valid", jwt.encode(claims(), hs384, algorithm="HS384"), "ok")
add("hs512 valid", jwt.encode(claims(), hs512, algorithm="HS512"), "ok")
add("rs256 valid", jwt.encode(claims(), rsa_key, algorithm="RS256"), "ok")
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def es256_with_s(token, high):
    """The same ES256 signature with S on the chosen side of n/2: (r, n - s) verifies too."""
    h, p, sig = token.split(".")
    raw_sig = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    r, s = raw_sig[:32], int.from_bytes(raw_sig[32:], "big")
    if (s > P256_ORDER // 2) != high:
        s = P256_ORDER - s
    return h + "." + p + "." + b64(r + s.to_bytes(32, "big"))


es256_token = jwt.encode(claims(), ec_key, algorithm="ES256")
add("es256 valid", es256_with_s(es256_token, high=False), "ok")
add("es256 with a high S (the same signature spelt again)", es256_with_s(es256_token, high=True), "bad_signature")
add("exp far in the future (1e11 s)", jwt.encode(claims(exp=10**11), hs256, algorithm="HS256"), "ok")
add("nbf far in the future (5e10 s)", jwt.encode(claims(nbf=5 * 10**10), hs256, algorithm="HS256"), "not_yet_valid")
add("nbf far in the future (1e11 s)", jwt.encode(claims(nbf=10**11), hs256, algorithm="HS256"), "not_yet_valid")
add("iat far in the future (1e11 s)", jwt.encode(claims(iat=10**11), hs256, algorithm="HS256"), "not_yet_valid")
add("nbf beyond any clock (1e300 s)", jwt.encode(claims(nbf=1e300), hs256, algorithm="HS256"), "not_yet_valid")
add("aud array containing api", jwt.encode(claims(aud=["other", "api"]), hs256, algorithm="HS256"), "ok")
add("scp array", jwt.encode(claims(scope=None, scp=["read", "admin"]), hs256, algorithm="HS256"), "ok")
add("kid selects the rs256 key", jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "rsa-1"}), "ok")
add("expired within leeway", jwt.encode(claims(exp=now - 5), hs256, algorithm="HS256"), "ok")
add("jku header ignored", jwt.encode(claims(), hs256, algorithm="HS256",
                                     headers={"jku": "https://attacker.test/keys"}), "ok")

add("alg none, unsigned", raw({"alg": "none", "typ": "JWT"}, claims()), "token_malformed")
add("alg none, with a signature", raw({"alg": "none"}, claims(), hmac_sha256(hs256.encode())), "algorithm_mismatch")
add("alg None, signed", raw({"alg": "None"}, claims(), hmac_sha256(hs256.encode())), "algorithm_mismatch")
add("hs256 signed with the rsa public key (confusion)",
    raw({"alg": "HS256", "kid": "rsa-1"}, claims(), hmac_sha256(pem(rsa_key).encode())), "algorithm_mismatch")
add("hs256 with a wrong secret", jwt.encode(claims(), "w" * 32, algorithm="HS256"), "bad_signature")
add("es256 signed by another key", jwt.encode(claims(), other_ec, algorithm="ES256"), "bad_signature")
valid = jwt.encode(claims(), hs256, algorithm="HS256")
h, p, s = valid.split(".")
add("payload tampered", h + "." + b64(json.dumps(claims(sub="root")).encode()) + "." + s, "bad_signature")
add("signature stripped", h + "." + p + ".", "token_malformed")
add("expired", jwt.encode(claims(exp=now - 3600), hs256, algorithm="HS256"), "expired")
add("no exp", jwt.encode(claims(exp=None), hs256, algorithm="HS256"), "missing_expiry")
add("nbf in the future", jwt.encode(claims(nbf=now + 3600), hs256, algorithm="HS256"), "not_yet_valid")
add("iat in the future", jwt.encode(claims(iat=now + 3600), hs256, algorithm="HS256"), "not_yet_valid")
add("wrong issuer", jwt.encode(claims(iss="https://evil.test"), hs256, algorithm="HS256"), "wrong_issuer")
add("wrong audience", jwt.encode(claims(aud="other"), hs256, algorithm="HS256"), "wrong_audience")
add("no audience", jwt.encode(claims(aud=None), hs256, algorithm="HS256"), "wrong_audience")
add("unknown kid", jwt.encode(claims(), hs256, algorithm="HS256", headers={"kid": "nobody"}), "unknown_key")
add("crit header", jwt.encode(claims(), hs256, algorithm="HS256", headers={"crit": ["exp"]}), "unsupported_extension")
add("oversized", jwt.encode(claims(pad="x" * 9000), hs256, algorithm="HS256"), "token_too_large")
add("two parts", h + "." + p, "token_malformed")
add("padding in base64", h + "=." + p + "." + s, "token_malformed")
add("not json", b64(b"not json") + "." + p + "." + s, "token_malformed")

json.dump({
    "keys": {"hs256": hs256, "hs384": hs384, "hs512": hs512, "rsa_public_pem": pem(rsa_key),
             "ec_public_pem": pem(ec_key)},
    "tokens": tokens,
}, open(sys.argv[1], "w"), indent=1)
