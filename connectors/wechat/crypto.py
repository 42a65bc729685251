"""WeChat message signatures and "safe mode" (AES) encryption.

The scheme is WeChat's own: AES-256-CBC with key = base64(EncodingAESKey + "="),
IV = key[:16], plaintext = 16 random bytes + 4-byte big-endian length + message + AppID,
PKCS#7-padded to 32-byte blocks. AES and padding come from `cryptography`.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PAD_BLOCK_BITS = 32 * 8


class WeChatCryptoError(ValueError):
    """The message is not one our account could have received; never passed on to the bot."""


def signature(*parts: str) -> str:
    """sha1 over the lexicographically sorted parts, as WeChat signs URLs and messages."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_matches(expected: str, *parts: str) -> bool:
    return isinstance(expected, str) and hmac.compare_digest(signature(*parts), expected.lower())


def aes_key(encoding_aes_key: str) -> bytes:
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error:
        key = b""
    if len(encoding_aes_key) != 43 or len(key) != 32:
        raise ValueError("WECHAT_ENCODING_AES_KEY must be the 43-character EncodingAESKey from the "
                         "WeChat admin console (Settings → Basic configuration)")
    return key


class MessageCrypto:
    """Encrypts and decrypts the `Encrypt` payloads of one official account."""

    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        self.token = token
        self.app_id = app_id
        self._key = aes_key(encoding_aes_key)

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return signature(self.token, timestamp, nonce, encrypted)

    def encrypt(self, message: str, random_prefix: bytes | None = None) -> str:
        body = message.encode("utf-8")
        plain = (random_prefix or os.urandom(16)) + struct.pack(">I", len(body)) + body + self.app_id.encode()
        padder = padding.PKCS7(PAD_BLOCK_BITS).padder()
        padded = padder.update(plain) + padder.finalize()
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypted: str) -> str:
        """The message inside `encrypted`; WeChatCryptoError if it is not for this account."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise WeChatCryptoError("Encrypt is not base64") from None
        if not data or len(data) % 16:
            raise WeChatCryptoError("Encrypt is not a whole number of AES blocks")
        decryptor = self._cipher().decryptor()
        padded = decryptor.update(data) + decryptor.finalize()
        unpadder = padding.PKCS7(PAD_BLOCK_BITS).unpadder()
        try:
            plain = unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            raise WeChatCryptoError("bad padding: wrong EncodingAESKey or corrupted message") from None
        if len(plain) < 20:
            raise WeChatCryptoError("decrypted message is too short")
        (length,) = struct.unpack(">I", plain[16:20])
        body, app_id = plain[20:20 + length], plain[20 + length:]
        if len(body) != length:
            raise WeChatCryptoError("declared length exceeds the message")
        if app_id.decode("utf-8", "replace") != self.app_id:
            raise WeChatCryptoError("message is addressed to another AppID")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise WeChatCryptoError("message is not UTF-8") from None
