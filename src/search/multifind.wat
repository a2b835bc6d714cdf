;; Teddy-style multi-literal line finder (WebAssembly SIMD128). Built by scripts/build-wasm.mjs into
;; src/engine/multifind-wasm.ts; the JS side (planning, memory, line starts) is src/engine/multifind.ts.
;;
;; How it works
;; - Every needle is given a 3-byte fingerprint: a window of the needle at some offset (chosen by the JS planner to
;;   be rare in the file), and is put in one of 8 buckets (scan8) or 16 (scan16), one bit each.
;; - For fingerprint byte j (0..2) there are two 16-byte tables, LO_j and HI_j, indexed by a nibble: bit b of
;;   LO_j[n] is set when some needle of bucket b has low nibble n at fingerprint byte j (HI_j likewise for the high
;;   nibble). A case-insensitive letter sets both cases; they share the low nibble. A needle shorter than 3 bytes
;;   sets its bit in every entry for the missing bytes (matches anything). scan16 has a second set of tables for
;;   buckets 8..15 (bit b - 8); both sets index with the same nibbles.
;; - For a 16-byte block at p (two per loop iteration: one branch per 32 bytes), byte i of
;;     R = AND_j ( swizzle(LO_j, text[p+j .. p+j+16] & 15) & swizzle(HI_j, text[p+j .. p+j+16] >> 4) )
;;   has bit b set when text[p+i .. p+i+3] may be the fingerprint of a needle of bucket b. The three shifted
;;   blocks are plain unaligned loads. A real fingerprint always sets its bucket's bit; but the nibble tables
;;   over-approximate (the lo and hi sets of different needles of a bucket combine), so R only gives candidates.
;; - scripts/build-wasm.mjs also builds this text with every i8x16.swizzle as i8x16.relaxed_swizzle (one pshufb on x64
;;   where V8 11 emits three instructions per swizzle): the same bytes for lane indices 0..15 only. Every index below
;;   is a nibble, masked with 15 (test/search-wasm.test.ts checks it).
;; - Each candidate is verified exactly ($verify) against every needle of each flagged bucket, at p + i - (the
;;   needle's fingerprint offset), within [base, end): first 4 bytes of the needle around its fingerprint with one
;;   masked i32 compare ((text | fold bits) & care == value), then every byte. A case-insensitive needle is stored
;;   folded (A-Z to a-z) and the text byte is folded before the comparison.
;; - On a match the start address of its line (after the line feed before it, or `base`; found backwards 16 bytes
;;   at a time), the address of its line feed and the number of line feeds before it are written to the output,
;;   and the scan resumes after that line feed: the rest of that line needs no search. The caller puts a line feed
;;   at `end` as a sentinel.
;; - The line feeds are counted in the same block loop (the blocks are loaded anyway; a second pass over the text
;;   per line cost ~5% of a busy IIS scan): a compare per block subtracted into byte lanes, summed every 127 block
;;   pairs and at each match, where the pair's line feeds before the match are counted from its bitmask.
;; - The scan stops early when the output area is full, and reports where it stopped, so that the caller can
;;   take the matches and resume.
;; - all16 (the line dispatcher, src/search/dispatch.ts) runs the same block loop over one line with its own
;;   instance and tables, and reports every needle occurrence in it, each with the number of field separators
;;   before it, instead of the first one.
;;
;; Memory layout (built by multifind.ts, all addresses absolute):
;;   0..95     LO_0 HI_0 LO_1 HI_1 LO_2 HI_2 (buckets 0..7)
;;   96..191   LO_0 HI_0 LO_1 HI_1 LO_2 HI_2 (buckets 8..15; scan16 only)
;;   192..255  scratch: R of the current block pair (buckets 0..7), then (scan16) R of buckets 8..15
;;   256..259  where the last scan stopped; 260..263 (all16) the separators in the whole line; 264..267 the line
;;             feeds in the text before where the last scan stopped (the caller zeroes it before the first call)
;;   268..275  (field) the end of the last field found, and 1 when it is plain
;;   320..447  per bucket: i32 address of its first needle record, i32 address past its last one
;;   448..     needle records, 32 bytes each: i32 fingerprint offset, i32 length, i32 address of the bytes,
;;             i32 1 when case-insensitive (bytes folded) else 0, i32 offset of the 4-byte check in the needle,
;;             i32 its fold bits (0x20 at letters of an insensitive needle), i32 its care mask, i32 its value;
;;             then the needle bytes
;;   then the output area (three i32 per match: line start, line end, line feeds before; all16: two, the needle
;;   record and its field) and the text, followed by
;;   >= 64 readable bytes (scan8/scan16: the first one is a LF).
(module
  (memory (export "memory") 1)
  ;; all16: the separators in [line start, $cpos) are $ccount (hits come nearly in order: counted incrementally).
  (global $cpos (mut i32) (i32.const 0))
  (global $ccount (mut i32) (i32.const 0))

  ;; The start of the first needle (of the buckets in mask $m) that occurs with its fingerprint at $q, inside
  ;; [base, end); -1 when none does.
  (func $verify (param $q i32) (param $m i32) (param $base i32) (param $end i32) (result i32)
    (local $k i32) (local $rec i32) (local $recEnd i32) (local $at i32) (local $len i32) (local $bytes i32)
    (local $fold i32) (local $c i32)
    (loop $bucket
      (local.set $k (i32.shl (i32.ctz (local.get $m)) (i32.const 3)))
      (local.set $m (i32.and (local.get $m) (i32.sub (local.get $m) (i32.const 1))))
      (local.set $rec (i32.load offset=320 (local.get $k)))
      (local.set $recEnd (i32.load offset=324 (local.get $k)))
      (block $nextBucket
        (loop $needle
          (br_if $nextBucket (i32.ge_u (local.get $rec) (local.get $recEnd)))
          (local.set $at (i32.sub (local.get $q) (i32.load (local.get $rec))))
          (local.set $len (i32.load offset=4 (local.get $rec)))
          (if (i32.and
                (i32.and
                  (i32.ge_u (local.get $at) (local.get $base))
                  (i32.le_u (i32.add (local.get $at) (local.get $len)) (local.get $end)))
                (i32.eq
                  (i32.and
                    (i32.or
                      (i32.load (i32.add (local.get $at) (i32.load offset=16 (local.get $rec))))
                      (i32.load offset=20 (local.get $rec)))
                    (i32.load offset=24 (local.get $rec)))
                  (i32.load offset=28 (local.get $rec))))
            (then
              (local.set $bytes (i32.load offset=8 (local.get $rec)))
              (local.set $fold (i32.load offset=12 (local.get $rec)))
              (local.set $k (i32.const 0))
              (block $differs
                (loop $cmp
                  (if (i32.eq (local.get $k) (local.get $len)) (then (return (local.get $at))))
                  (local.set $c (i32.load8_u (i32.add (local.get $at) (local.get $k))))
                  ;; Fold A-Z to a-z when the needle is case-insensitive.
                  (local.set $c (i32.or (local.get $c) (i32.shl
                    (i32.and (local.get $fold)
                      (i32.lt_u (i32.sub (local.get $c) (i32.const 65)) (i32.const 26)))
                    (i32.const 5))))
                  (br_if $differs (i32.ne (local.get $c)
                    (i32.load8_u (i32.add (local.get $bytes) (local.get $k)))))
                  (local.set $k (i32.add (local.get $k) (i32.const 1)))
                  (br $cmp)))))
          (local.set $rec (i32.add (local.get $rec) (i32.const 32)))
          (br $needle)))
      (br_if $bucket (local.get $m)))
    (i32.const -1))

  ;; The start of the line holding $at: after the last line feed in [base, at), else $base.
  (func $lineStart (param $at i32) (param $base i32) (result i32)
    (local $bits i32)
    (loop $blocks
      (if (i32.ge_u (i32.sub (local.get $at) (local.get $base)) (i32.const 16))
        (then
          ;; Bit i: byte at - 16 + i is a line feed; the highest one is the last.
          (local.set $bits (i8x16.bitmask (i8x16.eq
            (v128.load (i32.sub (local.get $at) (i32.const 16))) (i8x16.splat (i32.const 10)))))
          (if (local.get $bits)
            (then (return (i32.add (i32.sub (local.get $at) (i32.const 15))
              (i32.sub (i32.const 31) (i32.clz (local.get $bits)))))))
          (local.set $at (i32.sub (local.get $at) (i32.const 16)))
          (br $blocks))))
    (loop $bytes
      (if (i32.gt_u (local.get $at) (local.get $base))
        (then
          (if (i32.eq (i32.load8_u (i32.sub (local.get $at) (i32.const 1))) (i32.const 10)) (then (return (local.get $at))))
          (local.set $at (i32.sub (local.get $at) (i32.const 1)))
          (br $bytes))))
    (local.get $at))

  ;; The address after the first line feed at or after $q (the caller's sentinel ends the search).
  (func $nextLine (param $q i32) (result i32)
    (local $bits i32)
    (loop $findNl
      (local.set $bits (i8x16.bitmask (i8x16.eq (v128.load (local.get $q)) (i8x16.splat (i32.const 10)))))
      (if (i32.eqz (local.get $bits))
        (then
          (local.set $q (i32.add (local.get $q) (i32.const 16)))
          (br $findNl))))
    (i32.add (i32.add (local.get $q) (i32.ctz (local.get $bits))) (i32.const 1)))

  ;; The sum of the 16 byte lanes of $acc (line feeds counted by subtracting compares).
  (func $hsum (param $acc v128) (result i32)
    (local.set $acc (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (local.get $acc))))
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
      (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))

  ;; Searches the text [base, end) for window starts in [p, end) with 8 buckets, writing matches from $out while it
  ;; is below $outEnd (12 bytes each). Returns the end of the written matches; stores the resume position at 256
;; (>= end: done) and the line feeds before it at 264.
  (func (export "scan8") (param $p i32) (param $base i32) (param $end i32) (param $out i32) (param $outEnd i32)
    (result i32)
    (local $lo0 v128) (local $hi0 v128) (local $lo1 v128) (local $hi1 v128) (local $lo2 v128) (local $hi2 v128)
    (local $nib v128) (local $a v128) (local $r v128) (local $s v128)
    (local $bits i32) (local $k i32) (local $at i32)
    (local $lf v128) (local $e1 v128) (local $e2 v128) (local $acc v128) (local $nl i32) (local $left i32) (local $q i32)
    (local.set $lo0 (v128.load (i32.const 0)))
    (local.set $hi0 (v128.load (i32.const 16)))
    (local.set $lo1 (v128.load (i32.const 32)))
    (local.set $hi1 (v128.load (i32.const 48)))
    (local.set $lo2 (v128.load (i32.const 64)))
    (local.set $hi2 (v128.load (i32.const 80)))
    (local.set $nib (i8x16.splat (i32.const 15)))
    (local.set $lf (i8x16.splat (i32.const 10)))
    (local.set $nl (i32.load (i32.const 264)))
    (local.set $left (i32.const 127))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        ;; At most one match per iteration.
        (br_if $done (i32.ge_u (local.get $out) (local.get $outEnd)))
        (local.set $a (v128.load (local.get $p)))
        (local.set $e1 (i8x16.eq (local.get $a) (local.get $lf)))
        (local.set $r (v128.and
          (i8x16.swizzle (local.get $lo0) (v128.and (local.get $a) (local.get $nib)))
          (i8x16.swizzle (local.get $hi0) (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib)))))
        (local.set $a (v128.load offset=1 (local.get $p)))
        (local.set $r (v128.and (local.get $r) (v128.and
          (i8x16.swizzle (local.get $lo1) (v128.and (local.get $a) (local.get $nib)))
          (i8x16.swizzle (local.get $hi1) (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib))))))
        (local.set $a (v128.load offset=2 (local.get $p)))
        (local.set $r (v128.and (local.get $r) (v128.and
          (i8x16.swizzle (local.get $lo2) (v128.and (local.get $a) (local.get $nib)))
          (i8x16.swizzle (local.get $hi2) (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib))))))
        (local.set $a (v128.load offset=16 (local.get $p)))
        (local.set $e2 (i8x16.eq (local.get $a) (local.get $lf)))
        (local.set $s (v128.and
          (i8x16.swizzle (local.get $lo0) (v128.and (local.get $a) (local.get $nib)))
          (i8x16.swizzle (local.get $hi0) (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib)))))
        (local.set $a (v128.load offset=17 (local.get $p)))
        (local.set $s (v128.and (local.get $s) (v128.and
          (i8x16.swizzle (local.get $lo1) (v128.and (local.get $a) (local.get $nib)))
          (i8x16.swizzle (local.get $hi1) (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib))))))
        (local.set $a (v128.load offset=18 (local.get $p)))
        (local.set $s (v128.and (local.get $s) (v128.and
          (i8x16.swizzle (local.get $lo2) (v128.and (local.get $a) (local.get $nib)))
          (i8x16.swizzle (local.get $hi2) (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib))))))
        (if (v128.any_true (v128.or (local.get $r) (local.get $s)))
          (then
            ;; Bit i of $bits: byte i of the block pair is nonzero (low 16 bits: first block).
            (local.set $bits (i32.or
              (i8x16.bitmask (i8x16.ne (local.get $r) (v128.const i32x4 0 0 0 0)))
              (i32.shl (i8x16.bitmask (i8x16.ne (local.get $s) (v128.const i32x4 0 0 0 0))) (i32.const 16))))
            (v128.store (i32.const 192) (local.get $r))
            (v128.store (i32.const 208) (local.get $s))
            (loop $each
              (local.set $k (i32.ctz (local.get $bits)))
              (local.set $bits (i32.and (local.get $bits) (i32.sub (local.get $bits) (i32.const 1))))
              (local.set $at (call $verify (i32.add (local.get $p) (local.get $k))
                (i32.load8_u offset=192 (local.get $k)) (local.get $base) (local.get $end)))
              (if (i32.ge_s (local.get $at) (i32.const 0))
                (then
                  ;; A match: the line feeds before p + k (none between its line start and p + k), its line (start, end, line
                  ;; feeds before it), then on after the line feed that ends it.
                  (local.set $nl (i32.add (i32.add (local.get $nl) (call $hsum (local.get $acc)))
                    (i32.popcnt (i32.and
                      (i32.or (i8x16.bitmask (local.get $e1)) (i32.shl (i8x16.bitmask (local.get $e2)) (i32.const 16)))
                      (i32.sub (i32.shl (i32.const 1) (local.get $k)) (i32.const 1))))))
                  (local.set $acc (v128.const i32x4 0 0 0 0))
                  (local.set $left (i32.const 127))
                  (local.set $q (call $nextLine (i32.add (local.get $p) (local.get $k))))
                  (i32.store (local.get $out) (call $lineStart (local.get $at) (local.get $base)))
                  (i32.store offset=4 (local.get $out) (i32.sub (local.get $q) (i32.const 1)))
                  (i32.store offset=8 (local.get $out) (local.get $nl))
                  (local.set $nl (i32.add (local.get $nl) (i32.const 1)))
                  (local.set $out (i32.add (local.get $out) (i32.const 12)))
                  (local.set $p (local.get $q))
                  (br $blocks)))
              (br_if $each (local.get $bits)))))
        ;; No match: the block pair's line feeds go into the byte lanes (at most 2 a round: summed every 127).
        (local.set $acc (i8x16.sub (i8x16.sub (local.get $acc) (local.get $e1)) (local.get $e2)))
        (local.set $left (i32.sub (local.get $left) (i32.const 1)))
        (if (i32.eqz (local.get $left))
          (then
            (local.set $nl (i32.add (local.get $nl) (call $hsum (local.get $acc))))
            (local.set $acc (v128.const i32x4 0 0 0 0))
            (local.set $left (i32.const 127))))
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (br $blocks)))
    ;; The line feeds in [base, p) but those read past $end (its sentinel), for the next call and the caller.
    (local.set $nl (i32.add (local.get $nl) (call $hsum (local.get $acc))))
    (if (i32.gt_u (local.get $p) (local.get $end))
      (then (local.set $nl (i32.sub (local.get $nl) (call $count (local.get $end) (local.get $p) (i32.const 10))))))
    (i32.store (i32.const 264) (local.get $nl))
    (i32.store (i32.const 256) (local.get $p))
    (local.get $out))

  ;; scan8 with 16 buckets: a second set of tables (at 96) gives the bits of buckets 8..15.
  (func (export "scan16") (param $p i32) (param $base i32) (param $end i32) (param $out i32) (param $outEnd i32)
    (result i32)
    (local $lo0 v128) (local $hi0 v128) (local $lo1 v128) (local $hi1 v128) (local $lo2 v128) (local $hi2 v128)
    (local $lo0b v128) (local $hi0b v128) (local $lo1b v128) (local $hi1b v128) (local $lo2b v128) (local $hi2b v128)
    (local $nib v128) (local $a v128) (local $l v128) (local $h v128)
    (local $r v128) (local $s v128) (local $u v128) (local $v v128)
    (local $bits i32) (local $k i32) (local $at i32)
    (local $lf v128) (local $e1 v128) (local $e2 v128) (local $acc v128) (local $nl i32) (local $left i32) (local $q i32)
    (local.set $lo0 (v128.load (i32.const 0)))
    (local.set $hi0 (v128.load (i32.const 16)))
    (local.set $lo1 (v128.load (i32.const 32)))
    (local.set $hi1 (v128.load (i32.const 48)))
    (local.set $lo2 (v128.load (i32.const 64)))
    (local.set $hi2 (v128.load (i32.const 80)))
    (local.set $lo0b (v128.load (i32.const 96)))
    (local.set $hi0b (v128.load (i32.const 112)))
    (local.set $lo1b (v128.load (i32.const 128)))
    (local.set $hi1b (v128.load (i32.const 144)))
    (local.set $lo2b (v128.load (i32.const 160)))
    (local.set $hi2b (v128.load (i32.const 176)))
    (local.set $nib (i8x16.splat (i32.const 15)))
    (local.set $lf (i8x16.splat (i32.const 10)))
    (local.set $nl (i32.load (i32.const 264)))
    (local.set $left (i32.const 127))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        ;; At most one match per iteration.
        (br_if $done (i32.ge_u (local.get $out) (local.get $outEnd)))
        ;; First block: $r (buckets 0..7), $u (8..15).
        (local.set $a (v128.load (local.get $p)))
        (local.set $e1 (i8x16.eq (local.get $a) (local.get $lf)))
        (local.set $l (v128.and (local.get $a) (local.get $nib)))
        (local.set $h (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib)))
        (local.set $r (v128.and (i8x16.swizzle (local.get $lo0) (local.get $l)) (i8x16.swizzle (local.get $hi0) (local.get $h))))
        (local.set $u (v128.and (i8x16.swizzle (local.get $lo0b) (local.get $l)) (i8x16.swizzle (local.get $hi0b) (local.get $h))))
        (local.set $a (v128.load offset=1 (local.get $p)))
        (local.set $l (v128.and (local.get $a) (local.get $nib)))
        (local.set $h (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib)))
        (local.set $r (v128.and (local.get $r)
          (v128.and (i8x16.swizzle (local.get $lo1) (local.get $l)) (i8x16.swizzle (local.get $hi1) (local.get $h)))))
        (local.set $u (v128.and (local.get $u)
          (v128.and (i8x16.swizzle (local.get $lo1b) (local.get $l)) (i8x16.swizzle (local.get $hi1b) (local.get $h)))))
        (local.set $a (v128.load offset=2 (local.get $p)))
        (local.set $l (v128.and (local.get $a) (local.get $nib)))
        (local.set $h (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib)))
        (local.set $r (v128.and (local.get $r)
          (v128.and (i8x16.swizzle (local.get $lo2) (local.get $l)) (i8x16.swizzle (local.get $hi2) (local.get $h)))))
        (local.set $u (v128.and (local.get $u)
          (v128.and (i8x16.swizzle (local.get $lo2b) (local.get $l)) (i8x16.swizzle (local.get $hi2b) (local.get $h)))))
        ;; Second block: $s (buckets 0..7), $v (8..15).
        (local.set $a (v128.load offset=16 (local.get $p)))
        (local.set $e2 (i8x16.eq (local.get $a) (local.get $lf)))
        (local.set $l (v128.and (local.get $a) (local.get $nib)))
        (local.set $h (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib)))
        (local.set $s (v128.and (i8x16.swizzle (local.get $lo0) (local.get $l)) (i8x16.swizzle (local.get $hi0) (local.get $h))))
        (local.set $v (v128.and (i8x16.swizzle (local.get $lo0b) (local.get $l)) (i8x16.swizzle (local.get $hi0b) (local.get $h))))
        (local.set $a (v128.load offset=17 (local.get $p)))
        (local.set $l (v128.and (local.get $a) (local.get $nib)))
        (local.set $h (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib)))
        (local.set $s (v128.and (local.get $s)
          (v128.and (i8x16.swizzle (local.get $lo1) (local.get $l)) (i8x16.swizzle (local.get $hi1) (local.get $h)))))
        (local.set $v (v128.and (local.get $v)
          (v128.and (i8x16.swizzle (local.get $lo1b) (local.get $l)) (i8x16.swizzle (local.get $hi1b) (local.get $h)))))
        (local.set $a (v128.load offset=18 (local.get $p)))
        (local.set $l (v128.and (local.get $a) (local.get $nib)))
        (local.set $h (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib)))
        (local.set $s (v128.and (local.get $s)
          (v128.and (i8x16.swizzle (local.get $lo2) (local.get $l)) (i8x16.swizzle (local.get $hi2) (local.get $h)))))
        (local.set $v (v128.and (local.get $v)
          (v128.and (i8x16.swizzle (local.get $lo2b) (local.get $l)) (i8x16.swizzle (local.get $hi2b) (local.get $h)))))
        (if (v128.any_true (v128.or (v128.or (local.get $r) (local.get $s)) (v128.or (local.get $u) (local.get $v))))
          (then
            ;; Bit i of $bits: byte i of the block pair has a bucket bit (low 16 bits: first block).
            (local.set $bits (i32.or
              (i8x16.bitmask (i8x16.ne (v128.or (local.get $r) (local.get $u)) (v128.const i32x4 0 0 0 0)))
              (i32.shl (i8x16.bitmask (i8x16.ne (v128.or (local.get $s) (local.get $v)) (v128.const i32x4 0 0 0 0)))
                (i32.const 16))))
            (v128.store (i32.const 192) (local.get $r))
            (v128.store (i32.const 208) (local.get $s))
            (v128.store (i32.const 224) (local.get $u))
            (v128.store (i32.const 240) (local.get $v))
            (loop $each
              (local.set $k (i32.ctz (local.get $bits)))
              (local.set $bits (i32.and (local.get $bits) (i32.sub (local.get $bits) (i32.const 1))))
              (local.set $at (call $verify (i32.add (local.get $p) (local.get $k))
                (i32.or (i32.load8_u offset=192 (local.get $k))
                  (i32.shl (i32.load8_u offset=224 (local.get $k)) (i32.const 8)))
                (local.get $base) (local.get $end)))
              (if (i32.ge_s (local.get $at) (i32.const 0))
                (then
                  ;; A match: the line feeds before p + k (none between its line start and p + k), its line (start, end, line
                  ;; feeds before it), then on after the line feed that ends it.
                  (local.set $nl (i32.add (i32.add (local.get $nl) (call $hsum (local.get $acc)))
                    (i32.popcnt (i32.and
                      (i32.or (i8x16.bitmask (local.get $e1)) (i32.shl (i8x16.bitmask (local.get $e2)) (i32.const 16)))
                      (i32.sub (i32.shl (i32.const 1) (local.get $k)) (i32.const 1))))))
                  (local.set $acc (v128.const i32x4 0 0 0 0))
                  (local.set $left (i32.const 127))
                  (local.set $q (call $nextLine (i32.add (local.get $p) (local.get $k))))
                  (i32.store (local.get $out) (call $lineStart (local.get $at) (local.get $base)))
                  (i32.store offset=4 (local.get $out) (i32.sub (local.get $q) (i32.const 1)))
                  (i32.store offset=8 (local.get $out) (local.get $nl))
                  (local.set $nl (i32.add (local.get $nl) (i32.const 1)))
                  (local.set $out (i32.add (local.get $out) (i32.const 12)))
                  (local.set $p (local.get $q))
                  (br $blocks)))
              (br_if $each (local.get $bits)))))
        ;; No match: the block pair's line feeds go into the byte lanes (at most 2 a round: summed every 127).
        (local.set $acc (i8x16.sub (i8x16.sub (local.get $acc) (local.get $e1)) (local.get $e2)))
        (local.set $left (i32.sub (local.get $left) (i32.const 1)))
        (if (i32.eqz (local.get $left))
          (then
            (local.set $nl (i32.add (local.get $nl) (call $hsum (local.get $acc))))
            (local.set $acc (v128.const i32x4 0 0 0 0))
            (local.set $left (i32.const 127))))
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (br $blocks)))
    ;; The line feeds in [base, p) but those read past $end (its sentinel), for the next call and the caller.
    (local.set $nl (i32.add (local.get $nl) (call $hsum (local.get $acc))))
    (if (i32.gt_u (local.get $p) (local.get $end))
      (then (local.set $nl (i32.sub (local.get $nl) (call $count (local.get $end) (local.get $p) (i32.const 10))))))
    (i32.store (i32.const 264) (local.get $nl))
    (i32.store (i32.const 256) (local.get $p))
    (local.get $out))

  ;; The number of bytes equal to $c in [from, to) (also exported: the text scanner counts line feeds with it).
  ;; Per 16-byte block one compare subtracted into byte lanes (a lane counts up to 255: summed every 255 blocks),
  ;; not a bitmask and popcount per block (2-3 times the work on the line feeds of a whole log).
  (func $count (export "count") (param $from i32) (param $to i32) (param $c i32) (result i32)
    (local $n i32) (local $v v128) (local $acc v128) (local $lim i32)
    (local.set $v (i8x16.splat (local.get $c)))
    (block $tail
      (loop $rounds
        (br_if $tail (i32.gt_u (i32.add (local.get $from) (i32.const 16)) (local.get $to)))
        ;; This round's blocks all start below $lim: at most 255 of them, each wholly before $to.
        (local.set $lim (i32.sub (local.get $to) (i32.const 15)))
        (if (i32.gt_u (i32.sub (local.get $lim) (local.get $from)) (i32.const 4080))
          (then (local.set $lim (i32.add (local.get $from) (i32.const 4080)))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (loop $blocks
          (local.set $acc (i8x16.sub (local.get $acc) (i8x16.eq (v128.load (local.get $from)) (local.get $v))))
          (local.set $from (i32.add (local.get $from) (i32.const 16)))
          (br_if $blocks (i32.lt_u (local.get $from) (local.get $lim))))
        (local.set $acc (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (local.get $acc))))
        (local.set $n (i32.add (local.get $n) (i32.add
          (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
          (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc))))))
        (br $rounds)))
    (block $done
      (loop $bytes
        (br_if $done (i32.ge_u (local.get $from) (local.get $to)))
        (local.set $n (i32.add (local.get $n) (i32.eq (i32.load8_u (local.get $from)) (local.get $c))))
        (local.set $from (i32.add (local.get $from) (i32.const 1)))
        (br $bytes)))
    (local.get $n))

  ;; The address of the first byte equal to $c in [from, to), or $to when there is none (the text scanner finds
  ;; each candidate line's end with it: a Buffer#indexOf call per line cost ~5% of a busy IIS scan). Reads whole
  ;; 16-byte blocks, up to 15 bytes past $to (the text is followed by readable padding).
  (func (export "indexOf") (param $from i32) (param $to i32) (param $c i32) (result i32)
    (local $v v128) (local $bits i32)
    (local.set $v (i8x16.splat (local.get $c)))
    (block $none
      (loop $blocks
        (br_if $none (i32.ge_u (local.get $from) (local.get $to)))
        (local.set $bits (i8x16.bitmask (i8x16.eq (v128.load (local.get $from)) (local.get $v))))
        (if (local.get $bits)
          (then
            (local.set $from (i32.add (local.get $from) (i32.ctz (local.get $bits))))
            (return (select (local.get $from) (local.get $to) (i32.lt_u (local.get $from) (local.get $to))))))
        (local.set $from (i32.add (local.get $from) (i32.const 16)))
        (br $blocks)))
    (local.get $to))

  ;; The separators $c in [line start, $at), from the last position counted ($at may go back a little).
  (func $fieldAt (param $at i32) (param $c i32) (result i32)
    (if (i32.ge_u (local.get $at) (global.get $cpos))
      (then
        (global.set $ccount (i32.add (global.get $ccount) (call $count (global.get $cpos) (local.get $at) (local.get $c))))
        (global.set $cpos (local.get $at))
        (return (global.get $ccount))))
    (i32.sub (global.get $ccount) (call $count (local.get $at) (global.get $cpos) (local.get $c))))

  ;; Appends (record address, field) for every needle (of the buckets in mask $m) that occurs with its fingerprint
  ;; at $q inside [base, end). Returns the new end of the output, or -1 when it would pass $outEnd.
  (func $verifyAll (param $q i32) (param $m i32) (param $base i32) (param $end i32) (param $out i32)
    (param $outEnd i32) (param $sep i32) (result i32)
    (local $k i32) (local $rec i32) (local $recEnd i32) (local $at i32) (local $len i32) (local $bytes i32)
    (local $fold i32) (local $c i32)
    (loop $bucket
      (local.set $k (i32.shl (i32.ctz (local.get $m)) (i32.const 3)))
      (local.set $m (i32.and (local.get $m) (i32.sub (local.get $m) (i32.const 1))))
      (local.set $rec (i32.load offset=320 (local.get $k)))
      (local.set $recEnd (i32.load offset=324 (local.get $k)))
      (block $nextBucket
        (loop $needle
          (br_if $nextBucket (i32.ge_u (local.get $rec) (local.get $recEnd)))
          (local.set $at (i32.sub (local.get $q) (i32.load (local.get $rec))))
          (local.set $len (i32.load offset=4 (local.get $rec)))
          (if (i32.and
                (i32.and
                  (i32.ge_u (local.get $at) (local.get $base))
                  (i32.le_u (i32.add (local.get $at) (local.get $len)) (local.get $end)))
                (i32.eq
                  (i32.and
                    (i32.or
                      (i32.load (i32.add (local.get $at) (i32.load offset=16 (local.get $rec))))
                      (i32.load offset=20 (local.get $rec)))
                    (i32.load offset=24 (local.get $rec)))
                  (i32.load offset=28 (local.get $rec))))
            (then
              (local.set $bytes (i32.load offset=8 (local.get $rec)))
              (local.set $fold (i32.load offset=12 (local.get $rec)))
              (local.set $k (i32.const 0))
              (block $differs
                (loop $cmp
                  (if (i32.eq (local.get $k) (local.get $len))
                    (then
                      (if (i32.ge_u (local.get $out) (local.get $outEnd)) (then (return (i32.const -1))))
                      (i32.store (local.get $out) (local.get $rec))
                      (i32.store offset=4 (local.get $out) (call $fieldAt (local.get $at) (local.get $sep)))
                      (local.set $out (i32.add (local.get $out) (i32.const 8)))
                      (br $differs)))
                  (local.set $c (i32.load8_u (i32.add (local.get $at) (local.get $k))))
                  ;; Fold A-Z to a-z when the needle is case-insensitive.
                  (local.set $c (i32.or (local.get $c) (i32.shl
                    (i32.and (local.get $fold)
                      (i32.lt_u (i32.sub (local.get $c) (i32.const 65)) (i32.const 26)))
                    (i32.const 5))))
                  (br_if $differs (i32.ne (local.get $c)
                    (i32.load8_u (i32.add (local.get $bytes) (local.get $k)))))
                  (local.set $k (i32.add (local.get $k) (i32.const 1)))
                  (br $cmp)))))
          (local.set $rec (i32.add (local.get $rec) (i32.const 32)))
          (br $needle)))
      (br_if $bucket (local.get $m)))
    (local.get $out))

  ;; Every needle occurrence in the line [base, end) (16 buckets, tables as for scan16), written from $out as pairs
  ;; (needle record address, separators $sep before it) while below $outEnd. Returns the end of the pairs, or -1
  ;; when they do not fit; stores the separators of the whole line at 260. Reads up to 64 bytes past $end.
  (func (export "all16") (param $base i32) (param $end i32) (param $out i32) (param $outEnd i32) (param $sep i32)
    (result i32)
    (local $lo0 v128) (local $hi0 v128) (local $lo1 v128) (local $hi1 v128) (local $lo2 v128) (local $hi2 v128)
    (local $lo0b v128) (local $hi0b v128) (local $lo1b v128) (local $hi1b v128) (local $lo2b v128) (local $hi2b v128)
    (local $nib v128) (local $a v128) (local $l v128) (local $h v128)
    (local $r v128) (local $s v128) (local $u v128) (local $v v128)
    (local $bits i32) (local $k i32) (local $p i32)
    (local.set $lo0 (v128.load (i32.const 0)))
    (local.set $hi0 (v128.load (i32.const 16)))
    (local.set $lo1 (v128.load (i32.const 32)))
    (local.set $hi1 (v128.load (i32.const 48)))
    (local.set $lo2 (v128.load (i32.const 64)))
    (local.set $hi2 (v128.load (i32.const 80)))
    (local.set $lo0b (v128.load (i32.const 96)))
    (local.set $hi0b (v128.load (i32.const 112)))
    (local.set $lo1b (v128.load (i32.const 128)))
    (local.set $hi1b (v128.load (i32.const 144)))
    (local.set $lo2b (v128.load (i32.const 160)))
    (local.set $hi2b (v128.load (i32.const 176)))
    (local.set $nib (i8x16.splat (i32.const 15)))
    (global.set $cpos (local.get $base))
    (global.set $ccount (i32.const 0))
    (local.set $p (local.get $base))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $a (v128.load (local.get $p)))
        (local.set $l (v128.and (local.get $a) (local.get $nib)))
        (local.set $h (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib)))
        (local.set $r (v128.and (i8x16.swizzle (local.get $lo0) (local.get $l)) (i8x16.swizzle (local.get $hi0) (local.get $h))))
        (local.set $u (v128.and (i8x16.swizzle (local.get $lo0b) (local.get $l)) (i8x16.swizzle (local.get $hi0b) (local.get $h))))
        (local.set $a (v128.load offset=1 (local.get $p)))
        (local.set $l (v128.and (local.get $a) (local.get $nib)))
        (local.set $h (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib)))
        (local.set $r (v128.and (local.get $r)
          (v128.and (i8x16.swizzle (local.get $lo1) (local.get $l)) (i8x16.swizzle (local.get $hi1) (local.get $h)))))
        (local.set $u (v128.and (local.get $u)
          (v128.and (i8x16.swizzle (local.get $lo1b) (local.get $l)) (i8x16.swizzle (local.get $hi1b) (local.get $h)))))
        (local.set $a (v128.load offset=2 (local.get $p)))
        (local.set $l (v128.and (local.get $a) (local.get $nib)))
        (local.set $h (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib)))
        (local.set $r (v128.and (local.get $r)
          (v128.and (i8x16.swizzle (local.get $lo2) (local.get $l)) (i8x16.swizzle (local.get $hi2) (local.get $h)))))
        (local.set $u (v128.and (local.get $u)
          (v128.and (i8x16.swizzle (local.get $lo2b) (local.get $l)) (i8x16.swizzle (local.get $hi2b) (local.get $h)))))
        (local.set $a (v128.load offset=16 (local.get $p)))
        (local.set $l (v128.and (local.get $a) (local.get $nib)))
        (local.set $h (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib)))
        (local.set $s (v128.and (i8x16.swizzle (local.get $lo0) (local.get $l)) (i8x16.swizzle (local.get $hi0) (local.get $h))))
        (local.set $v (v128.and (i8x16.swizzle (local.get $lo0b) (local.get $l)) (i8x16.swizzle (local.get $hi0b) (local.get $h))))
        (local.set $a (v128.load offset=17 (local.get $p)))
        (local.set $l (v128.and (local.get $a) (local.get $nib)))
        (local.set $h (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib)))
        (local.set $s (v128.and (local.get $s)
          (v128.and (i8x16.swizzle (local.get $lo1) (local.get $l)) (i8x16.swizzle (local.get $hi1) (local.get $h)))))
        (local.set $v (v128.and (local.get $v)
          (v128.and (i8x16.swizzle (local.get $lo1b) (local.get $l)) (i8x16.swizzle (local.get $hi1b) (local.get $h)))))
        (local.set $a (v128.load offset=18 (local.get $p)))
        (local.set $l (v128.and (local.get $a) (local.get $nib)))
        (local.set $h (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib)))
        (local.set $s (v128.and (local.get $s)
          (v128.and (i8x16.swizzle (local.get $lo2) (local.get $l)) (i8x16.swizzle (local.get $hi2) (local.get $h)))))
        (local.set $v (v128.and (local.get $v)
          (v128.and (i8x16.swizzle (local.get $lo2b) (local.get $l)) (i8x16.swizzle (local.get $hi2b) (local.get $h)))))
        (if (v128.any_true (v128.or (v128.or (local.get $r) (local.get $s)) (v128.or (local.get $u) (local.get $v))))
          (then
            (local.set $bits (i32.or
              (i8x16.bitmask (i8x16.ne (v128.or (local.get $r) (local.get $u)) (v128.const i32x4 0 0 0 0)))
              (i32.shl (i8x16.bitmask (i8x16.ne (v128.or (local.get $s) (local.get $v)) (v128.const i32x4 0 0 0 0)))
                (i32.const 16))))
            (v128.store (i32.const 192) (local.get $r))
            (v128.store (i32.const 208) (local.get $s))
            (v128.store (i32.const 224) (local.get $u))
            (v128.store (i32.const 240) (local.get $v))
            (loop $each
              (local.set $k (i32.ctz (local.get $bits)))
              (local.set $bits (i32.and (local.get $bits) (i32.sub (local.get $bits) (i32.const 1))))
              (local.set $out (call $verifyAll (i32.add (local.get $p) (local.get $k))
                (i32.or (i32.load8_u offset=192 (local.get $k))
                  (i32.shl (i32.load8_u offset=224 (local.get $k)) (i32.const 8)))
                (local.get $base) (local.get $end) (local.get $out) (local.get $outEnd) (local.get $sep)))
              (if (i32.lt_s (local.get $out) (i32.const 0)) (then (return (i32.const -1))))
              (br_if $each (local.get $bits)))))
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (br $blocks)))
    (i32.store (i32.const 260) (call $fieldAt (local.get $end) (local.get $sep)))
    (local.get $out))

  ;; The field after the $k-th $sep (from 0: the first field) of the line [from, to): its start, or -1 when the line
  ;; has fewer than $k separators; stores its end (the next $sep, or $to) at 268 and at 272 1 when it is plain (no
  ;; byte >= 0x80, no `%`), else 0. The text scanner cuts a rule's field out of a candidate line with it (a JS walk to
  ;; the field and over it cost ~2 ns a byte). Reads whole 16-byte blocks, up to 15 bytes past $to.
  (func (export "field") (param $from i32) (param $to i32) (param $sep i32) (param $k i32) (result i32)
    (local $v v128) (local $a v128) (local $bits i32) (local $n i32) (local $p i32) (local $plain i32)
    (local.set $v (i8x16.splat (local.get $sep)))
    (local.set $p (local.get $from))
    ;; The start: after the $k-th separator.
    (block $found
      (loop $blocks
        (br_if $found (i32.eqz (local.get $k)))
        (if (i32.ge_u (local.get $p) (local.get $to)) (then (return (i32.const -1))))
        (local.set $bits (i8x16.bitmask (i8x16.eq (v128.load (local.get $p)) (local.get $v))))
        ;; Only the separators before $to.
        (if (i32.lt_u (i32.sub (local.get $to) (local.get $p)) (i32.const 16))
          (then (local.set $bits (i32.and (local.get $bits)
            (i32.sub (i32.shl (i32.const 1) (i32.sub (local.get $to) (local.get $p))) (i32.const 1))))))
        (local.set $n (i32.popcnt (local.get $bits)))
        (if (i32.lt_u (local.get $n) (local.get $k))
          (then
            (local.set $k (i32.sub (local.get $k) (local.get $n)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $blocks)))
        ;; The $k-th of this block's: drop the $k - 1 before it.
        (loop $drop
          (if (i32.gt_u (local.get $k) (i32.const 1))
            (then
              (local.set $bits (i32.and (local.get $bits) (i32.sub (local.get $bits) (i32.const 1))))
              (local.set $k (i32.sub (local.get $k) (i32.const 1)))
              (br $drop))))
        (local.set $p (i32.add (i32.add (local.get $p) (i32.ctz (local.get $bits))) (i32.const 1)))))
    (local.set $from (local.get $p))
    ;; The end: the next separator (or $to); plain while no block before it holds a byte >= 0x80 or a `%`.
    (local.set $plain (i32.const 1))
    (block $end
      (loop $blocks
        (br_if $end (i32.ge_u (local.get $p) (local.get $to)))
        (local.set $a (v128.load (local.get $p)))
        (local.set $bits (i8x16.bitmask (i8x16.eq (local.get $a) (local.get $v))))
        (local.set $n (i32.sub (local.get $to) (local.get $p)))
        (if (i32.and (i32.eqz (local.get $bits)) (i32.ge_u (local.get $n) (i32.const 16)))
          (then
            (local.set $plain (i32.and (local.get $plain) (i32.eqz (i8x16.bitmask (v128.or
              (i8x16.lt_s (local.get $a) (v128.const i32x4 0 0 0 0))
              (i8x16.eq (local.get $a) (i8x16.splat (i32.const 37))))))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $blocks)))
        ;; The last block: up to the separator or $to.
        (if (i32.gt_u (local.get $n) (i32.const 16)) (then (local.set $n (i32.const 16))))
        (if (i32.and (i32.ne (local.get $bits) (i32.const 0)) (i32.lt_u (i32.ctz (local.get $bits)) (local.get $n)))
          (then (local.set $n (i32.ctz (local.get $bits)))))
        (local.set $plain (i32.and (local.get $plain) (i32.eqz (i32.and
          (i8x16.bitmask (v128.or
            (i8x16.lt_s (local.get $a) (v128.const i32x4 0 0 0 0))
            (i8x16.eq (local.get $a) (i8x16.splat (i32.const 37)))))
          (i32.sub (i32.shl (i32.const 1) (local.get $n)) (i32.const 1))))))
        (local.set $p (i32.add (local.get $p) (local.get $n)))))
    (i32.store (i32.const 268) (local.get $p))
    (i32.store (i32.const 272) (local.get $plain))
    (local.get $from))

  ;; Byte-pair prefilter (PairFilter in multifind.ts, an instance of its own): the positions i in [base, end) where
  ;; text[i] and text[i + 1] may be a pair of one of 8 classes (bit b), by nibble tables as scan8's for two bytes:
  ;; LO_0 HI_0 LO_1 HI_1 at 0..63. Writes them in order (an i32 each) from $out; returns the end of the written ones.
  ;; The byte at $end is the caller's (the pair's second byte there); reads up to 16 bytes past $end.
  (func (export "pairs") (param $base i32) (param $end i32) (param $out i32) (result i32)
    (local $lo0 v128) (local $hi0 v128) (local $lo1 v128) (local $hi1 v128) (local $nib v128) (local $a v128) (local $r v128)
    (local $p i32) (local $bits i32) (local $at i32)
    (local.set $lo0 (v128.load (i32.const 0)))
    (local.set $hi0 (v128.load (i32.const 16)))
    (local.set $lo1 (v128.load (i32.const 32)))
    (local.set $hi1 (v128.load (i32.const 48)))
    (local.set $nib (i8x16.splat (i32.const 15)))
    (local.set $p (local.get $base))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $a (v128.load (local.get $p)))
        (local.set $r (v128.and
          (i8x16.swizzle (local.get $lo0) (v128.and (local.get $a) (local.get $nib)))
          (i8x16.swizzle (local.get $hi0) (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib)))))
        (local.set $a (v128.load offset=1 (local.get $p)))
        (local.set $r (v128.and (local.get $r) (v128.and
          (i8x16.swizzle (local.get $lo1) (v128.and (local.get $a) (local.get $nib)))
          (i8x16.swizzle (local.get $hi1) (v128.and (i16x8.shr_u (local.get $a) (i32.const 4)) (local.get $nib))))))
        (local.set $bits (i8x16.bitmask (i8x16.ne (local.get $r) (v128.const i32x4 0 0 0 0))))
        (block $blockDone
          (loop $each
            (br_if $blockDone (i32.eqz (local.get $bits)))
            (local.set $at (i32.add (local.get $p) (i32.ctz (local.get $bits))))
            ;; In order: the first position past the text ends the search.
            (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
            (i32.store (local.get $out) (local.get $at))
            (local.set $out (i32.add (local.get $out) (i32.const 4)))
            (local.set $bits (i32.and (local.get $bits) (i32.sub (local.get $bits) (i32.const 1))))
            (br $each)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $blocks)))
    (local.get $out))
)
