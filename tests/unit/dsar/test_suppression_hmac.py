"""The re-scan's SQL HMAC (sha256 over the key pads) equals erasure.suppression_hash."""

from __future__ import annotations

import hashlib

import pytest

from steward.dsar import erasure, suppression


@pytest.mark.parametrize("salt", [b"test-salt", b"k" * 64, b"long-" * 40])
def test_pads_reproduce_the_erasure_hash(salt):
    ipad, opad = suppression.hmac_pads(salt)
    for kind, value in (("email", "zed.quill@example.org"), ("phone", "+16502539187")):
        message = f"{kind}:{value}".encode()
        inner = hashlib.sha256(ipad + message).digest()
        assert hashlib.sha256(opad + inner).hexdigest() == erasure.suppression_hash(
            salt, kind, value
        )
