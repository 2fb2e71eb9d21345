;; The consistency check's k nearest neighbours by brute force, four pool points at a time in
;; the lanes of two f64x2: each lane sums its own point's squared differences column by
;; column, in column order, so a distance is the same double the scalar sum gives. Points are
;; scanned in pool order and a point enters the k found only when strictly nearer than the
;; k-th, so among equal distances the lower pool index wins: the k found are the k smallest by
;; (distance, pool index), whatever the search. Compiled by scripts/build-wasm.mjs into
;; neighbours-wasm.ts; driven by neighbours.ts, which lays the memory out.
;;
;; Memory, byte offsets given by the caller:
;;   points   the pool in blocks of four: block b holds points 4b…4b+3, column d at
;;            points + (b·dims + d)·32 (points 4b, 4b+1 in the lanes of the first f64x2,
;;            4b+2, 4b+3 in the second); the last block of a pool not a multiple of four is
;;            filled with NaN, which is never nearer than anything
;;   query    the queried point, each column twice (a f64x2 per column)
;;   found    k distances (f64), nearest first, then k pool indices (i32)
(module
  (import "env" "memory" (memory 1))

  (global $count (mut i32) (i32.const 0))
  (global $k (mut i32) (i32.const 0))
  (global $distances (mut i32) (i32.const 0))
  (global $indices (mut i32) (i32.const 0))
  (global $bound (mut f64) (f64.const 0))

  ;; Offers point `index` at `distance`: kept when strictly nearer than the k-th (or fewer
  ;; than k are held), after the held points at the same distance.
  (func $offer (param $distance f64) (param $index i32)
    (local $at i32) (local $d i32) (local $i i32)
    (if (i32.eqz (f64.lt (local.get $distance) (global.get $bound))) (then (return)))
    (local.set $at (global.get $count))
    (if (i32.lt_s (global.get $count) (global.get $k))
      (then (global.set $count (i32.add (global.get $count) (i32.const 1))))
      (else (local.set $at (i32.sub (global.get $k) (i32.const 1)))))
    (block $placed
      (loop $shift
        (br_if $placed (i32.eqz (local.get $at)))
        (local.set $d (i32.add (global.get $distances) (i32.shl (local.get $at) (i32.const 3))))
        (local.set $i (i32.add (global.get $indices) (i32.shl (local.get $at) (i32.const 2))))
        (br_if $placed (i32.eqz (f64.gt (f64.load offset=0 (i32.sub (local.get $d) (i32.const 8))) (local.get $distance))))
        (f64.store (local.get $d) (f64.load (i32.sub (local.get $d) (i32.const 8))))
        (i32.store (local.get $i) (i32.load (i32.sub (local.get $i) (i32.const 4))))
        (local.set $at (i32.sub (local.get $at) (i32.const 1)))
        (br $shift)))
    (f64.store (i32.add (global.get $distances) (i32.shl (local.get $at) (i32.const 3))) (local.get $distance))
    (i32.store (i32.add (global.get $indices) (i32.shl (local.get $at) (i32.const 2))) (local.get $index))
    (if (i32.eq (global.get $count) (global.get $k))
      (then (global.set $bound (f64.load (i32.add (global.get $distances) (i32.shl (i32.sub (global.get $k) (i32.const 1)) (i32.const 3))))))))

;; The k nearest of the pool's blocks `from`…`blocks`−1 (`points`: blocks of four points,
  ;; `dims` columns, from block 0) to the point at `query`, never pool point `exclude` (−1:
  ;; none), added to the `held` nearest of the blocks before `from` already at `found`
  ;; (0 for a whole search): written at `found`; returns how many are held (fewer than k
  ;; only when the blocks searched hold fewer other points). A search in runs of blocks
  ;; keeps the k a whole search keeps, at every step the same. A block is left once all four
  ;; partial sums, checked every fourth column, reach the k-th distance: a sum only grows, so
  ;; none could have been kept. Two pairs' sums side by side keep two chains of additions in
  ;; flight.
  (func (export "nearest") (param $points i32) (param $blocks i32) (param $dims i32) (param $query i32) (param $k i32) (param $exclude i32) (param $found i32) (param $from i32) (param $held i32) (result i32)
    (local $b i32) (local $p i32) (local $pp i32) (local $q i32) (local $d i32) (local $step i32) (local $first i32)
    (local $low v128) (local $high v128) (local $qv v128) (local $diff v128) (local $boundv v128)
    (global.set $count (local.get $held))
    (global.set $k (local.get $k))
    (global.set $distances (local.get $found))
    (global.set $indices (i32.add (local.get $found) (i32.shl (local.get $k) (i32.const 3))))
    (if (i32.eqz (local.get $k)) (then (return (i32.const 0))))
    ;; The k-th distance held bounds the search once k are held.
    (global.set $bound (f64.const inf))
    (if (i32.eq (local.get $held) (local.get $k))
      (then (global.set $bound (f64.load (i32.add (local.get $found) (i32.shl (i32.sub (local.get $k) (i32.const 1)) (i32.const 3)))))))
    (local.set $boundv (f64x2.splat (global.get $bound)))
    (local.set $step (i32.shl (local.get $dims) (i32.const 5)))
    (local.set $b (local.get $from))
    (local.set $p (i32.add (local.get $points) (i32.mul (local.get $from) (local.get $step))))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $b) (local.get $blocks)))
        (block $next
          (local.set $low (v128.const f64x2 0 0))
          (local.set $high (v128.const f64x2 0 0))
          (local.set $pp (local.get $p))
          (local.set $q (local.get $query))
          (local.set $d (i32.const 4))
          (block $quads
            (loop $quad
              (br_if $quads (i32.gt_u (local.get $d) (local.get $dims)))
              (local.set $qv (v128.load offset=0 (local.get $q)))
              (local.set $diff (f64x2.sub (v128.load offset=0 (local.get $pp)) (local.get $qv)))
              (local.set $low (f64x2.add (local.get $low) (f64x2.mul (local.get $diff) (local.get $diff))))
              (local.set $diff (f64x2.sub (v128.load offset=16 (local.get $pp)) (local.get $qv)))
              (local.set $high (f64x2.add (local.get $high) (f64x2.mul (local.get $diff) (local.get $diff))))
              (local.set $qv (v128.load offset=16 (local.get $q)))
              (local.set $diff (f64x2.sub (v128.load offset=32 (local.get $pp)) (local.get $qv)))
              (local.set $low (f64x2.add (local.get $low) (f64x2.mul (local.get $diff) (local.get $diff))))
              (local.set $diff (f64x2.sub (v128.load offset=48 (local.get $pp)) (local.get $qv)))
              (local.set $high (f64x2.add (local.get $high) (f64x2.mul (local.get $diff) (local.get $diff))))
              (local.set $qv (v128.load offset=32 (local.get $q)))
              (local.set $diff (f64x2.sub (v128.load offset=64 (local.get $pp)) (local.get $qv)))
              (local.set $low (f64x2.add (local.get $low) (f64x2.mul (local.get $diff) (local.get $diff))))
              (local.set $diff (f64x2.sub (v128.load offset=80 (local.get $pp)) (local.get $qv)))
              (local.set $high (f64x2.add (local.get $high) (f64x2.mul (local.get $diff) (local.get $diff))))
              (local.set $qv (v128.load offset=48 (local.get $q)))
              (local.set $diff (f64x2.sub (v128.load offset=96 (local.get $pp)) (local.get $qv)))
              (local.set $low (f64x2.add (local.get $low) (f64x2.mul (local.get $diff) (local.get $diff))))
              (local.set $diff (f64x2.sub (v128.load offset=112 (local.get $pp)) (local.get $qv)))
              (local.set $high (f64x2.add (local.get $high) (f64x2.mul (local.get $diff) (local.get $diff))))
              (local.set $pp (i32.add (local.get $pp) (i32.const 128)))
              (local.set $q (i32.add (local.get $q) (i32.const 64)))
              (local.set $d (i32.add (local.get $d) (i32.const 4)))
              (br_if $next (i32.eqz (v128.any_true (v128.or (f64x2.lt (local.get $low) (local.get $boundv)) (f64x2.lt (local.get $high) (local.get $boundv))))))
              (br $quad)))
          ;; The last dims mod 4 columns.
          (local.set $d (i32.sub (local.get $d) (i32.const 4)))
          (block $ends
            (loop $end
              (br_if $ends (i32.ge_u (local.get $d) (local.get $dims)))
              (local.set $qv (v128.load (local.get $q)))
              (local.set $diff (f64x2.sub (v128.load offset=0 (local.get $pp)) (local.get $qv)))
              (local.set $low (f64x2.add (local.get $low) (f64x2.mul (local.get $diff) (local.get $diff))))
              (local.set $diff (f64x2.sub (v128.load offset=16 (local.get $pp)) (local.get $qv)))
              (local.set $high (f64x2.add (local.get $high) (f64x2.mul (local.get $diff) (local.get $diff))))
              (local.set $pp (i32.add (local.get $pp) (i32.const 32)))
              (local.set $q (i32.add (local.get $q) (i32.const 16)))
              (local.set $d (i32.add (local.get $d) (i32.const 1)))
              (br $end)))
          (br_if $next (i32.eqz (v128.any_true (v128.or (f64x2.lt (local.get $low) (local.get $boundv)) (f64x2.lt (local.get $high) (local.get $boundv))))))
          ;; The four points in pool order.
          (local.set $first (i32.shl (local.get $b) (i32.const 2)))
          (if (i32.ne (local.get $first) (local.get $exclude))
            (then (call $offer (f64x2.extract_lane 0 (local.get $low)) (local.get $first))))
          (if (i32.ne (i32.add (local.get $first) (i32.const 1)) (local.get $exclude))
            (then (call $offer (f64x2.extract_lane 1 (local.get $low)) (i32.add (local.get $first) (i32.const 1)))))
          (if (i32.ne (i32.add (local.get $first) (i32.const 2)) (local.get $exclude))
            (then (call $offer (f64x2.extract_lane 0 (local.get $high)) (i32.add (local.get $first) (i32.const 2)))))
          (if (i32.ne (i32.add (local.get $first) (i32.const 3)) (local.get $exclude))
            (then (call $offer (f64x2.extract_lane 1 (local.get $high)) (i32.add (local.get $first) (i32.const 3)))))
          (local.set $boundv (f64x2.splat (global.get $bound))))
        (local.set $p (i32.add (local.get $p) (local.get $step)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $blocks)))
    (global.get $count))
)
