#!/usr/bin/env python3
"""Writes oracle.tsv: addresses of the common forms and their one-character
alterations, each with the answer an address parser must give, worked out
here from the standards alone (no coinhound code): Base58Check with
hashlib's SHA-256, Bech32/Bech32m from BIP-173/BIP-350, EIP-55 with a
Keccak-256 written below from the Keccak reference (FIPS 202's permutation,
the original 0x01 padding). tests/test_address_oracle.c reads the file.

    python3 tests/data/addr/make_oracle.py > tests/data/addr/oracle.tsv

Columns: input, answer (valid | checksum), family (BTC | EVM | -), canonical
(or -), form."""
import hashlib
import random

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def b58check_encode(payload):
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(data, "big")
    s = ""
    while n:
        n, r = divmod(n, 58)
        s = B58[r] + s
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + s


def b58check_ok(s):
    if any(c not in B58 for c in s):
        return None
    n = 0
    for c in s:
        n = n * 58 + B58.index(c)
    zeros = len(s) - len(s.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    data = b"\0" * zeros + body
    if len(data) < 4:
        return None
    if hashlib.sha256(hashlib.sha256(data[:-4]).digest()).digest()[:4] != data[-4:]:
        return None
    return data[:-4]


def polymod(values):
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            if (top >> i) & 1:
                chk ^= gen[i]
    return chk


def hrp_expand(hrp):
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def to5(data):
    acc, bits, out = 0, 0, []
    for b in data:
        acc = acc << 8 | b
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append(acc >> bits & 31)
    if bits:
        out.append(acc << (5 - bits) & 31)
    return out


def segwit_encode(hrp, ver, prog):
    data = [ver] + to5(prog)
    const = 1 if ver == 0 else 0x2BC830A3
    pm = polymod(hrp_expand(hrp) + data + [0] * 6) ^ const
    return hrp + "1" + "".join(CHARSET[d] for d in data + [pm >> 5 * (5 - i) & 31 for i in range(6)])


def bech32_ok(s):
    low = s.lower()
    if s != low and s != s.upper():
        return False
    sep = low.rfind("1")
    if sep < 1 or any(c not in CHARSET for c in low[sep + 1:]):
        return False
    return polymod(hrp_expand(low[:sep]) + [CHARSET.index(c) for c in low[sep + 1:]]) in (1, 0x2BC830A3)


# Keccak-256 (the original padding, as Ethereum uses it)
RC = [0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
      0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
      0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
      0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
      0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
      0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008]
ROT = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56],
       [27, 20, 39, 8, 14]]
M64 = (1 << 64) - 1


def rol(v, n):
    return (v << n | v >> (64 - n)) & M64 if n else v


def keccak_f(a):
    for rc in RC:
        c = [a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4] for x in range(5)]
        d = [c[(x - 1) % 5] ^ rol(c[(x + 1) % 5], 1) for x in range(5)]
        a = [[a[x][y] ^ d[x] for y in range(5)] for x in range(5)]
        b = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                b[y][(2 * x + 3 * y) % 5] = rol(a[x][y], ROT[x][y])
        a = [[b[x][y] ^ (~b[(x + 1) % 5][y] & b[(x + 2) % 5][y]) for y in range(5)] for x in range(5)]
        a[0][0] ^= rc
    return a


def keccak256(msg):
    rate = 136
    msg = bytearray(msg) + b"\x01" + b"\0" * ((-len(msg) - 1) % rate)
    msg[-1] |= 0x80
    a = [[0] * 5 for _ in range(5)]
    for off in range(0, len(msg), rate):
        block = msg[off:off + rate]
        for i in range(rate // 8):
            x, y = i % 5, i // 5
            a[x][y] ^= int.from_bytes(block[8 * i:8 * i + 8], "little")
        a = keccak_f(a)
    return b"".join(a[i % 5][i // 5].to_bytes(8, "little") for i in range(4))


def eip55(addr20):
    hexs = addr20.hex()
    h = keccak256(hexs.encode()).hex()
    return "0x" + "".join(c.upper() if c in "abcdef" and int(h[i], 16) >= 8 else c
                          for i, c in enumerate(hexs))


def eip55_ok(s):
    d = s[2:]
    if d == d.lower() or d == d.upper():
        return True
    return s == eip55(bytes.fromhex(d.lower()))


assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
assert eip55(bytes.fromhex("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")) == \
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

rng = random.Random(20261207)
rows = []
for i in range(120):
    h20 = bytes(rng.getrandbits(8) for _ in range(20))
    h32 = bytes(rng.getrandbits(8) for _ in range(32))
    forms = [
        ("p2pkh", b58check_encode(b"\0" + h20), "BTC", None),
        ("p2sh", b58check_encode(b"\5" + h20), "BTC", None),
        ("p2wpkh", segwit_encode("bc", 0, h20), "BTC", None),
        ("p2wsh", segwit_encode("bc", 0, h32), "BTC", None),
        ("p2tr", segwit_encode("bc", 1, h32), "BTC", None),
        ("evm-eip55", eip55(h20), "EVM", "0x" + h20.hex()),
        ("evm-lower", "0x" + h20.hex(), "EVM", "0x" + h20.hex()),
    ]
    if i % 2 == 0:  # test networks (family BTC, testnet): P2PKH m/n, P2SH 2, tb1, bcrt1
        forms += [
            ("p2pkh-testnet", b58check_encode(b"\x6f" + h20), "BTC", None),
            ("p2sh-testnet", b58check_encode(b"\xc4" + h20), "BTC", None),
            ("p2wpkh-regtest", segwit_encode("bcrt", 0, h20), "BTC", None),
            ("p2tr-testnet", segwit_encode("tb", 1, h32), "BTC", None),
        ]
    if i % 4 == 0:  # Bech32 in upper case: valid, canonical lower
        forms.append(("p2wpkh-upper", segwit_encode("bc", 0, h20).upper(), "BTC", None))
    for form, s, fam, canon in forms:
        if canon is None:
            canon = s.lower() if form.startswith("p2w") or form.startswith("p2tr") else s
        rows.append((s, "valid", fam, canon, form))
        # one alteration each, which the standard's own check refuses
        for _ in range(50):
            k = rng.randrange(2 if fam == "EVM" else 6, len(s))
            if form.startswith("evm"):
                if form == "evm-lower" or not s[k].isalpha():
                    continue
                t = s[:k] + s[k].swapcase() + s[k + 1:]
                d = t[2:]
                if d in (d.lower(), d.upper()) or eip55_ok(t):
                    continue
            elif form.startswith("p2p") or form.startswith("p2sh"):
                t = s[:k] + rng.choice(B58.replace(s[k], "")) + s[k + 1:]
                if b58check_ok(t) is not None:
                    continue
            else:
                cs = CHARSET.upper() if s.isupper() else CHARSET
                t = s[:k] + rng.choice(cs.replace(s[k], "")) + s[k + 1:]
                if bech32_ok(t):
                    continue
            rows.append((t, "checksum", "-", "-", form + "-altered"))
            break
        if form == "evm-lower" and i % 3 == 0:  # a lower-case address altered: no checksum, valid
            t = s[:10] + ("0" if s[10] != "0" else "1") + s[11:]
            rows.append((t, "valid", "EVM", t, "evm-lower-other"))

print("# input\tanswer\tfamily\tcanonical\tform  (tests/data/addr/make_oracle.py)")
for r in rows:
    print("\t".join(r))
