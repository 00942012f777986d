#!/usr/bin/env python3
"""Print N distinct valid mainnet addresses of random payloads, in the forms
a compliance desk's file holds (a benchmark's clean addresses: no list names
a random hash): P2PKH 1..., P2SH 3..., P2WPKH bc1q..., P2TR bc1p..., and EVM
0x... in lower case (EIP-55 asks Keccak, which Python's hashlib lacks; lower
case is a valid form). The same seed prints the same addresses.

    python3 bench/clean_addrs.py N [SEED]
"""
import hashlib
import random
import sys

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def base58check(version, payload):
    data = bytes([version]) + payload
    data += hashlib.sha256(hashlib.sha256(data).digest()).digest()[:4]
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def polymod(values):
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def segwit(version, program):
    """BIP 173 (version 0) or BIP 350 (version 1+) address of program."""
    acc, bits, data = 0, 0, [version]
    for b in program:
        acc = acc << 8 | b
        bits += 8
        while bits >= 5:
            bits -= 5
            data.append(acc >> bits & 31)
    if bits:
        data.append(acc << (5 - bits) & 31)
    const = 1 if version == 0 else 0x2BC830A3
    hrp = [ord(c) >> 5 for c in "bc"] + [0] + [ord(c) & 31 for c in "bc"]
    pm = polymod(hrp + data + [0] * 6) ^ const
    data += [pm >> 5 * (5 - i) & 31 for i in range(6)]
    return "bc1" + "".join(BECH32[d] for d in data)


def main():
    n = int(sys.argv[1])
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    seen = set()
    while len(seen) < n:
        k = rng.random()
        if k < 0.30:
            a = base58check(0, rng.randbytes(20))
        elif k < 0.45:
            a = base58check(5, rng.randbytes(20))
        elif k < 0.70:
            a = segwit(0, rng.randbytes(20))
        elif k < 0.80:
            a = segwit(1, rng.randbytes(32))
        else:
            a = "0x" + rng.randbytes(20).hex()
        if a not in seen:
            seen.add(a)
            print(a)


if __name__ == "__main__":
    main()
