/* SPDX-License-Identifier: BSD-3-Clause
 * UTF-8 validation (RFC 3629) as a table-driven automaton, resumable at any
 * byte so a text message can be checked piece by piece as it arrives, and
 * rejected with the piece that holds its first bad byte (RFC 6455 8.1
 * wants us to fail fast, not at the end of the message).
 *
 * Bytes fall in 12 classes (the rows below) by what they can be: ASCII,
 * three ranges of continuation bytes (80-8F, 90-9F, A0-BF), never-valid
 * bytes (C0, C1, F5-FF), and the lead bytes, with E0, ED, F0 and F4 in
 * classes of their own because they narrow the range of the next byte:
 *   E0 needs A0-BF next (else an overlong 3-byte form),
 *   ED needs 80-9F next (else a UTF-16 surrogate, D800-DFFF),
 *   F0 needs 90-BF next (else an overlong 4-byte form),
 *   F4 needs 80-8F next (else above U+10FFFF).
 * The states are "between characters", "reject" and how many continuation
 * bytes are still owed, with four special first-continuation states for
 * those leads. Only state ACCEPT ends a valid text.
 *
 * Game traffic is mostly ASCII (JSON), so between characters the loop
 * checks 16 bytes at a time for a high bit and skips them when none is set;
 * a block with one goes through the automaton with no branch on the state
 * (measured on mixed text: branching per byte, or a table lookup that
 * depends on the state, made it slower than a plain decoder).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ws.h"

/* States, numbered 0..8; a state's value is its number times 6. */
enum {
	K_ACC,          /* between characters */
	K_REJ,          /* sticky */
	K_1,            /* one continuation byte owed */
	K_2,
	K_3,
	K_E0,           /* after E0: A0-BF, then one more */
	K_ED,           /* after ED: 80-9F, then one more */
	K_F0,           /* after F0: 90-BF, then two more */
	K_F4,           /* after F4: 80-8F, then two more */
};

_Static_assert(K_ACC * 6 == WG_UTF8_ACCEPT && K_REJ * 6 == WG_UTF8_REJECT, "ws.h agrees");

/* Shift-based automaton: the 64-bit row of a byte holds, in 6 bits per
 * state, the next state for each current state, so a step is
 *     state = (row[byte] >> state) & 63
 * The row load does not depend on the state; the serial chain per byte is
 * one shift and one AND instead of a dependent table load. A row is built
 * from the next state of each of the 9 states: */
#define ROW(a, r, s1, s2, s3, e0, ed, f0, f4) ( \
	(uint64_t)(a) * 6 << 0 | (uint64_t)(r) * 6 << 6 | (uint64_t)(s1) * 6 << 12 | \
	(uint64_t)(s2) * 6 << 18 | (uint64_t)(s3) * 6 << 24 | (uint64_t)(e0) * 6 << 30 | \
	(uint64_t)(ed) * 6 << 36 | (uint64_t)(f0) * 6 << 42 | (uint64_t)(f4) * 6 << 48)

#define X K_REJ
/*               from: ACC   REJ S_1    S_2  S_3  E0   ED   F0   F4 */
#define R_ASC  ROW(K_ACC, X, X,     X,   X,   X,   X,   X,   X)
#define R_80   ROW(X,     X, K_ACC, K_1, K_2, X,   K_1, X,   K_2)   /* 80-8F */
#define R_90   ROW(X,     X, K_ACC, K_1, K_2, X,   K_1, K_2, X)     /* 90-9F */
#define R_A0   ROW(X,     X, K_ACC, K_1, K_2, K_1, X,   K_2, X)     /* A0-BF */
#define R_BAD  ROW(X,     X, X,     X,   X,   X,   X,   X,   X)     /* C0 C1 F5-FF */
#define R_L2   ROW(K_1,   X, X,     X,   X,   X,   X,   X,   X)     /* C2-DF */
#define R_E0   ROW(K_E0,  X, X,     X,   X,   X,   X,   X,   X)
#define R_L3   ROW(K_2,   X, X,     X,   X,   X,   X,   X,   X)     /* E1-EC EE EF */
#define R_ED   ROW(K_ED,  X, X,     X,   X,   X,   X,   X,   X)
#define R_F0   ROW(K_F0,  X, X,     X,   X,   X,   X,   X,   X)
#define R_L4   ROW(K_3,   X, X,     X,   X,   X,   X,   X,   X)     /* F1-F3 */
#define R_F4   ROW(K_F4,  X, X,     X,   X,   X,   X,   X,   X)

#define R16(c) c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c

static const uint64_t rows[256] = {
	R16(R_ASC), R16(R_ASC), R16(R_ASC), R16(R_ASC),          /* 00-3F */
	R16(R_ASC), R16(R_ASC), R16(R_ASC), R16(R_ASC),          /* 40-7F */
	R16(R_80), R16(R_90), R16(R_A0), R16(R_A0),              /* 80-BF */
	R_BAD, R_BAD, R_L2, R_L2, R_L2, R_L2, R_L2, R_L2,        /* C0-C7 */
	R_L2, R_L2, R_L2, R_L2, R_L2, R_L2, R_L2, R_L2,          /* C8-CF */
	R16(R_L2),                                               /* D0-DF */
	R_E0, R_L3, R_L3, R_L3, R_L3, R_L3, R_L3, R_L3,          /* E0-E7 */
	R_L3, R_L3, R_L3, R_L3, R_L3, R_ED, R_L3, R_L3,          /* E8-EF */
	R_F0, R_L4, R_L4, R_L4, R_F4, R_BAD, R_BAD, R_BAD,       /* F0-F7 */
	R_BAD, R_BAD, R_BAD, R_BAD, R_BAD, R_BAD, R_BAD, R_BAD,  /* F8-FF */
};

#undef X

#define HIGH_BITS 0x8080808080808080ull

uint32_t
wg_utf8_step(uint32_t state, const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;

	if (state > K_F4 * 6 || state % 6 != 0)
		return WG_UTF8_REJECT;
	while (p < end) {
		const uint8_t *stop;

		if (state == WG_UTF8_ACCEPT) {
			/* unaligned loads via memcpy: one instruction each on
			 * x86 and arm64, and no alignment prologue to get wrong */
			while (end - p >= 16) {
				uint64_t a, b;

				memcpy(&a, p, 8);
				memcpy(&b, p + 8, 8);
				if ((a | b) & HIGH_BITS)
					break;
				p += 16;
			}
		}
		/* then the automaton over a block, with no branch on the
		 * state inside: mixed text would mispredict one per byte.
		 * REJECT is sticky, so checking once per block is enough. */
		stop = end - p > 16 ? p + 16 : end;
		while (p < stop)
			state = (uint32_t)(rows[*p++] >> state) & 63;
		if (state == WG_UTF8_REJECT)
			break;
	}
	return state;
}
