/* Keccak-f[1600]'s 24 rounds, written out once for every lane type: included
 * by util/keccak.c with
 *   KF_NAME  the function's name,
 *   KF_LANE  the type of a lane: uint64_t for one state, or a vector of
 *            uint64_t holding the same lane of several states (GCC's vector
 *            extension: the operators below act on each element),
 *   KF_ATTR  the function's attributes (its target instruction set).
 * The state is in 25 local lanes (a<i> is A[x][y] for i = x + 5y) and every
 * index and rotation is a constant, written out from the steps of the
 * reference (rho and pi: B[y][2x+3y] = rot(A[x][y] ^ D[x], r[x][y])), so
 * that the compiler keeps the lanes in registers. RC (the round constants)
 * and KECCAK_ROUNDS come from the includer. No include guard: one inclusion
 * per instance. */

/* Rotation by a constant n, 0 < n < 64. */
#ifndef KF_ROL64
#define KF_ROL64(v, n) (((v) << (n)) | ((v) >> (64 - (n))))
#endif

KF_ATTR static void KF_NAME(KF_LANE st[25]) {
    KF_LANE a0 = st[0], a1 = st[1], a2 = st[2], a3 = st[3], a4 = st[4], a5 = st[5], a6 = st[6],
            a7 = st[7], a8 = st[8], a9 = st[9], a10 = st[10], a11 = st[11], a12 = st[12],
            a13 = st[13], a14 = st[14], a15 = st[15], a16 = st[16], a17 = st[17], a18 = st[18],
            a19 = st[19], a20 = st[20], a21 = st[21], a22 = st[22], a23 = st[23], a24 = st[24];
    for (int round = 0; round < KECCAK_ROUNDS; round++) {
        KF_LANE b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15, b16, b17, b18,
            b19, b20, b21, b22, b23, b24;
        /* theta: xor each column's parity of its two neighbours in. */
        KF_LANE c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20, c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21,
                c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22, c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23,
                c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24;
        KF_LANE d0 = c4 ^ KF_ROL64(c1, 1), d1 = c0 ^ KF_ROL64(c2, 1), d2 = c1 ^ KF_ROL64(c3, 1),
                d3 = c2 ^ KF_ROL64(c4, 1), d4 = c3 ^ KF_ROL64(c0, 1);
        /* rho and pi, theta's xor folded in */
        b0 = a0 ^ d0;
        b10 = KF_ROL64(a1 ^ d1, 1);
        b20 = KF_ROL64(a2 ^ d2, 62);
        b5 = KF_ROL64(a3 ^ d3, 28);
        b15 = KF_ROL64(a4 ^ d4, 27);
        b16 = KF_ROL64(a5 ^ d0, 36);
        b1 = KF_ROL64(a6 ^ d1, 44);
        b11 = KF_ROL64(a7 ^ d2, 6);
        b21 = KF_ROL64(a8 ^ d3, 55);
        b6 = KF_ROL64(a9 ^ d4, 20);
        b7 = KF_ROL64(a10 ^ d0, 3);
        b17 = KF_ROL64(a11 ^ d1, 10);
        b2 = KF_ROL64(a12 ^ d2, 43);
        b12 = KF_ROL64(a13 ^ d3, 25);
        b22 = KF_ROL64(a14 ^ d4, 39);
        b23 = KF_ROL64(a15 ^ d0, 41);
        b8 = KF_ROL64(a16 ^ d1, 45);
        b18 = KF_ROL64(a17 ^ d2, 15);
        b3 = KF_ROL64(a18 ^ d3, 21);
        b13 = KF_ROL64(a19 ^ d4, 8);
        b14 = KF_ROL64(a20 ^ d0, 18);
        b24 = KF_ROL64(a21 ^ d1, 2);
        b9 = KF_ROL64(a22 ^ d2, 61);
        b19 = KF_ROL64(a23 ^ d3, 56);
        b4 = KF_ROL64(a24 ^ d4, 14);
        /* chi: the only non-linear step, along rows */
        a0 = b0 ^ (~b1 & b2);
        a1 = b1 ^ (~b2 & b3);
        a2 = b2 ^ (~b3 & b4);
        a3 = b3 ^ (~b4 & b0);
        a4 = b4 ^ (~b0 & b1);
        a5 = b5 ^ (~b6 & b7);
        a6 = b6 ^ (~b7 & b8);
        a7 = b7 ^ (~b8 & b9);
        a8 = b8 ^ (~b9 & b5);
        a9 = b9 ^ (~b5 & b6);
        a10 = b10 ^ (~b11 & b12);
        a11 = b11 ^ (~b12 & b13);
        a12 = b12 ^ (~b13 & b14);
        a13 = b13 ^ (~b14 & b10);
        a14 = b14 ^ (~b10 & b11);
        a15 = b15 ^ (~b16 & b17);
        a16 = b16 ^ (~b17 & b18);
        a17 = b17 ^ (~b18 & b19);
        a18 = b18 ^ (~b19 & b15);
        a19 = b19 ^ (~b15 & b16);
        a20 = b20 ^ (~b21 & b22);
        a21 = b21 ^ (~b22 & b23);
        a22 = b22 ^ (~b23 & b24);
        a23 = b23 ^ (~b24 & b20);
        a24 = b24 ^ (~b20 & b21);
        /* iota */
        a0 ^= RC[round];
    }
    st[0] = a0, st[1] = a1, st[2] = a2, st[3] = a3, st[4] = a4, st[5] = a5, st[6] = a6;
    st[7] = a7, st[8] = a8, st[9] = a9, st[10] = a10, st[11] = a11, st[12] = a12, st[13] = a13;
    st[14] = a14, st[15] = a15, st[16] = a16, st[17] = a17, st[18] = a18, st[19] = a19;
    st[20] = a20, st[21] = a21, st[22] = a22, st[23] = a23, st[24] = a24;
}
