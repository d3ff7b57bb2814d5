"""Our KMS extension of moto 5.2.5: ``DescribeKey`` of an ARN answers for that ARN only.

moto reads only the key id of a key or alias ARN, so an ARN of another region or another account
describes the caller's own key with that id. KMS looks the ARN up where it points: a key of another
region is not found by this region's endpoint, and another account's key is not found (or denied)
unless that account shares it. Here both answer ``NotFoundException``, as a key nobody shared does.
Everything here is test bed: the operator never imports it.
"""

from __future__ import annotations

import re

from moto.kms.exceptions import NotFoundException
from moto.kms.responses import KmsResponse

__all__ = ["KmsExtension"]

_ARN = re.compile(r"arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):(?:key|alias)/.+")


class KmsExtension(KmsResponse):
    """``DescribeKey`` that honours the region and account of an ARN."""

    def describe_key(self) -> str:
        key_id = str(self._get_param("KeyId") or "")
        found = _ARN.fullmatch(key_id)
        if found and (found.group(1), found.group(2)) != (self.region, self.current_account):
            raise NotFoundException(f"Key '{key_id}' does not exist")
        return str(super().describe_key())
