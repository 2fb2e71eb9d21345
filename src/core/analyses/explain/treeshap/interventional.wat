;; Interventional TreeSHAP by leaf tables, one tree at a time: the hot loops of leaf-walk.ts
;; (blockMasks, accumulateRows), leaf-background.ts (summariseBackground) and interventional.ts
;; (fillContribution) as WebAssembly. The same operations in the same order on the same
;; float64 values, so the values are equal to the bit to the JavaScript walk's (tested); it is
;; faster because loads need no bounds check and nothing is boxed. Compiled by
;; scripts/build-wasm.mjs into interventional-wasm.ts; driven by interventional-kernel.ts,
;; which lays the memory out.
;;
;; Memory, byte offsets. The header (i32 at 0…95):
;;    0 positions   32 bytes per tree position (depth first, left child first): the smallest
;;                  float32 at or above the threshold (f32), feature i32 (+8), default-left 0/1 (+12), parent position (+16), left child
;;                  of its parent 0/1 (+20), leaf index or −1 (+24), the mask clearing its
;;                  local player (+28)
;;    4 leaves      32 bytes per leaf: value f64, players k (+8), first player (+12), first
;;                  table entry (+16), first flag (+20), one of a sibling pair 0/1 (+24)
;;    8 players     i32 per (leaf, local player): the value's column
;;   12 pairs       16 bytes per pair of sibling leaves: parent position, left leaf, first
;;                  entry, first flag
;;   16 singles     i32 per leaf of no pair
;;   20 positions, 24 leaves, 28 pairs, 32 singles: their counts
;;   36 masks       i32 per (position, row of the block), `stride` rows per position
;;   40 turns       i32 per (position, row): 1 when the row goes left
;;   44 leaf masks  i32 per (leaf, row)
;;   48 table       f64 entries: leaf l, mask X, local player i at first entry + X·k + i
;;   52 filled      u8 per (leaf, mask)
;;   56 pair table  f64 entries: pair p, mask 2·M + turn, local player i
;;   60 pair filled u8 per (pair, mask)
;;   64 counts      i32 per (leaf, mask): background rows with that mask
;;   68 first met   i32: each leaf's background masks in first-met order
;;   72 met         8 bytes per leaf: where its first-met masks start, how many
;;   76 weights     f64 W(a, b) at b·stride + a·8
;;   80 stride      bytes per b of the weights
;;   84 sums        f64 per (row, column), row after row
;;   88 width       columns per row of the sums
;;   92 background  rows of the background
;;   96 rights      i32 per position: its right child's position (a split's left child is the next)
;;  100 scaled      f64 per leaf: its value over the background rows (v of fillContribution)
(module
  (import "env" "memory" (memory 1))

  ;; The masks of rows from…from+stride−1 (features as float32 columns: column j at
  ;; col + j·colBytes) at every split position and at the leaves (all, or only those of no
  ;; pair), four rows at a time: `stride` is the block's row count rounded up to four, and the
  ;; rows past it are read (what memory follows) and never used. A child's mask is its
  ;; parent's, less the parent's player where the row turned the other way.
  (func (export "walk") (param $col i32) (param $colBytes i32) (param $from i32) (param $stride i32) (param $all i32)
    (local $i i32) (local $p i32) (local $leaf i32) (local $lrec i32) (local $players i32) (local $at i32)
    (local $parent i32) (local $clear i32) (local $pm i32) (local $pg i32) (local $r i32)
    (local $base i32) (local $gb i32) (local $column i32) (local $end i32)
    (local $posBase i32) (local $maskBase i32) (local $goBase i32) (local $npos i32)
    (local $flip v128) (local $keep v128) (local $thr v128) (local $dl v128) (local $v v128) (local $bytes i32)
    (local.set $posBase (i32.load (i32.const 0)))
    (local.set $npos (i32.load (i32.const 20)))
    (local.set $maskBase (i32.load (i32.const 36)))
    (local.set $goBase (i32.load (i32.const 40)))
    (local.set $bytes (i32.shl (local.get $stride) (i32.const 2)))
    (block $done
      (loop $positions
        (br_if $done (i32.ge_u (local.get $i) (local.get $npos)))
        (local.set $p (i32.add (local.get $posBase) (i32.shl (local.get $i) (i32.const 5))))
        (local.set $leaf (i32.load offset=24 (local.get $p)))
        (if (i32.gt_s (local.get $i) (i32.const 0))
          (then
            (local.set $parent (i32.load offset=16 (local.get $p)))
            ;; 1 ^ turn ^ side is turn ^ (1 ^ side); its negation keeps the whole mask (−1) or
            ;; only the bits other than the parent's player (0, or'ed with clear).
            (local.set $flip (i32x4.splat (i32.xor (i32.const 1) (i32.load offset=20 (local.get $p)))))
            (local.set $clear (i32.load offset=28 (i32.add (local.get $posBase) (i32.shl (local.get $parent) (i32.const 5)))))
            (local.set $pm (i32.add (local.get $maskBase) (i32.mul (local.get $parent) (local.get $bytes))))
            (local.set $pg (i32.add (local.get $goBase) (i32.mul (local.get $parent) (local.get $bytes))))))
        (if (i32.ge_s (local.get $leaf) (i32.const 0))
          (then
            (local.set $lrec (i32.add (i32.load (i32.const 4)) (i32.shl (local.get $leaf) (i32.const 5))))
            (if (i32.or (local.get $all) (i32.eqz (i32.load offset=24 (local.get $lrec))))
              (then
                (local.set $players (i32.sub (i32.shl (i32.const 1) (i32.load offset=8 (local.get $lrec))) (i32.const 1)))
                (local.set $at (i32.add (i32.load (i32.const 44)) (i32.mul (local.get $leaf) (local.get $bytes))))
                (local.set $end (i32.add (local.get $at) (local.get $bytes)))
                (if (i32.eqz (local.get $i))
                  (then
                    (block $z (loop $zero
                      (br_if $z (i32.ge_u (local.get $at) (local.get $end)))
                      (v128.store (local.get $at) (v128.const i32x4 0 0 0 0))
                      (local.set $at (i32.add (local.get $at) (i32.const 16)))
                      (br $zero))))
                  (else
                    (local.set $keep (i32x4.splat (i32.and (local.get $clear) (local.get $players))))
                    (local.set $v (i32x4.splat (local.get $players)))
                    (block $z (loop $child
                      (br_if $z (i32.ge_u (local.get $at) (local.get $end)))
                      (v128.store (local.get $at)
                        (v128.and
                          (v128.and (v128.load (local.get $pm)) (local.get $v))
                          (v128.or (local.get $keep) (i32x4.neg (v128.xor (v128.load (local.get $pg)) (local.get $flip))))))
                      (local.set $at (i32.add (local.get $at) (i32.const 16)))
                      (local.set $pm (i32.add (local.get $pm) (i32.const 16)))
                      (local.set $pg (i32.add (local.get $pg) (i32.const 16)))
                      (br $child))))))))
          (else
            (local.set $base (i32.add (local.get $maskBase) (i32.mul (local.get $i) (local.get $bytes))))
            (local.set $gb (i32.add (local.get $goBase) (i32.mul (local.get $i) (local.get $bytes))))
            (local.set $end (i32.add (local.get $base) (local.get $bytes)))
            (if (i32.eqz (local.get $i))
              (then
                (block $z (loop $root
                  (br_if $z (i32.ge_u (local.get $base) (local.get $end)))
                  (v128.store (local.get $base) (v128.const i32x4 -1 -1 -1 -1))
                  (local.set $base (i32.add (local.get $base) (i32.const 16)))
                  (br $root))))
              (else
                (local.set $keep (i32x4.splat (local.get $clear)))
                (block $z (loop $inner
                  (br_if $z (i32.ge_u (local.get $base) (local.get $end)))
                  (v128.store (local.get $base)
                    (v128.and (v128.load (local.get $pm))
                      (v128.or (local.get $keep) (i32x4.neg (v128.xor (v128.load (local.get $pg)) (local.get $flip))))))
                  (local.set $base (i32.add (local.get $base) (i32.const 16)))
                  (local.set $pm (i32.add (local.get $pm) (i32.const 16)))
                  (local.set $pg (i32.add (local.get $pg) (i32.const 16)))
                  (br $inner)))))
            ;; The turns: float32(x) < split goes left, compared in float32 with the smallest
            ;; float32 at or above the split (the same answer for every float32 x); a missing
            ;; value goes to the default side.
            (local.set $column (i32.add (i32.add (local.get $col) (i32.mul (i32.load offset=8 (local.get $p)) (local.get $colBytes))) (i32.shl (local.get $from) (i32.const 2))))
            (local.set $thr (f32x4.splat (f32.load (local.get $p))))
            (local.set $dl (i32x4.splat (i32.load offset=12 (local.get $p))))
            (local.set $end (i32.add (local.get $gb) (local.get $bytes)))
            (block $z (loop $turn
              (br_if $z (i32.ge_u (local.get $gb) (local.get $end)))
              (local.set $v (v128.load (local.get $column)))
              (v128.store (local.get $gb)
                (v128.bitselect (local.get $dl)
                  (v128.and (f32x4.lt (local.get $v) (local.get $thr)) (v128.const i32x4 1 1 1 1))
                  (f32x4.ne (local.get $v) (local.get $v))))
              (local.set $gb (i32.add (local.get $gb) (i32.const 16)))
              (local.set $column (i32.add (local.get $column) (i32.const 16)))
              (br $turn)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $positions))))

  ;; Adds the value of the leaf each row of the block reaches (by the turns walk wrote) to its
  ;; margin, an f64 per row from `out` on: treeMargin's sum, tree by tree in the same order.
  (func (export "reach") (param $count i32) (param $stride i32) (param $out i32)
    (local $r i32) (local $i i32) (local $leaf i32) (local $addr i32) (local $posBase i32) (local $goBase i32) (local $rights i32)
    (local.set $posBase (i32.load (i32.const 0)))
    (local.set $goBase (i32.load (i32.const 40)))
    (local.set $rights (i32.load (i32.const 96)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $count)))
        (local.set $i (i32.const 0))
        (block $reached
          (loop $down
            (local.set $leaf (i32.load offset=24 (i32.add (local.get $posBase) (i32.shl (local.get $i) (i32.const 5)))))
            (br_if $reached (i32.ge_s (local.get $leaf) (i32.const 0)))
            (local.set $i
              (if (result i32) (i32.load (i32.add (local.get $goBase) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $stride)) (local.get $r)) (i32.const 2))))
                (then (i32.add (local.get $i) (i32.const 1)))
                (else (i32.load (i32.add (local.get $rights) (i32.shl (local.get $i) (i32.const 2)))))))
            (br $down)))
        (local.set $addr (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 3))))
        (f64.store (local.get $addr) (f64.add (f64.load (local.get $addr)) (f64.load (i32.add (i32.load (i32.const 4)) (i32.shl (local.get $leaf) (i32.const 5))))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; Counts a block of background rows (their leaf masks from walk) per leaf and mask, noting
  ;; each leaf's masks in the order first met.
  (func (export "count") (param $count i32) (param $stride i32)
    (local $l i32) (local $lrec i32) (local $at i32) (local $base i32) (local $mrec i32) (local $first i32)
    (local $n i32) (local $r i32) (local $z i32) (local $addr i32) (local $c i32) (local $nleaves i32)
    (local $firstMet i32)
    (local.set $nleaves (i32.load (i32.const 24)))
    (local.set $firstMet (i32.load (i32.const 68)))
    (block $done
      (loop $leaves
        (br_if $done (i32.ge_u (local.get $l) (local.get $nleaves)))
        (local.set $lrec (i32.add (i32.load (i32.const 4)) (i32.shl (local.get $l) (i32.const 5))))
        (if (i32.load offset=8 (local.get $lrec))
          (then
            (local.set $at (i32.add (i32.load (i32.const 44)) (i32.shl (i32.mul (local.get $l) (local.get $stride)) (i32.const 2))))
            (local.set $base (i32.add (i32.load (i32.const 64)) (i32.shl (i32.load offset=20 (local.get $lrec)) (i32.const 2))))
            (local.set $mrec (i32.add (i32.load (i32.const 72)) (i32.shl (local.get $l) (i32.const 3))))
            (local.set $first (i32.load (local.get $mrec)))
            (local.set $n (i32.load offset=4 (local.get $mrec)))
            (local.set $r (i32.const 0))
            (block $z (loop $rows
              (br_if $z (i32.ge_u (local.get $r) (local.get $count)))
              (local.set $z (i32.load (i32.add (local.get $at) (i32.shl (local.get $r) (i32.const 2)))))
              (local.set $addr (i32.add (local.get $base) (i32.shl (local.get $z) (i32.const 2))))
              (local.set $c (i32.load (local.get $addr)))
              (i32.store (local.get $addr) (i32.add (local.get $c) (i32.const 1)))
              ;; Noted at the next free place whether new or not, kept only when new (no branch:
              ;; each leaf has a spare place past its masks' room).
              (i32.store (i32.add (local.get $firstMet) (i32.shl (i32.add (local.get $first) (local.get $n)) (i32.const 2))) (local.get $z))
              (local.set $n (i32.add (local.get $n) (i32.eqz (local.get $c))))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br $rows)))
            (i32.store offset=4 (local.get $mrec) (local.get $n))))
        (local.set $l (i32.add (local.get $l) (i32.const 1)))
        (br $leaves))))

  ;; Leaf l's entry for row mask X at entry…entry+k−1 (zeroed): fillContribution of
  ;; interventional.ts, its addToPlayers written out in place (amounts added to the entries
  ;; of a mask's bits, lowest first), over the subsets Y of X when there are no more of them than the leaf
  ;; has distinct background masks, else over those masks.
  (func $fill (param $l i32) (param $X i32) (param $entry i32)
    (local $lrec i32) (local $k i32) (local $notX i32) (local $x i32) (local $b i32) (local $v f64)
    (local $wLoss i32) (local $wGain i32) (local $loss f64) (local $mrec i32) (local $distinct i32)
    (local $base i32) (local $Y i32) (local $cnt f64) (local $a i32) (local $z i32) (local $Z i32) (local $first i32)
    (local $A i32) (local $m i32) (local $amount f64) (local $addr i32) (local $table i32)
    (local.set $table (i32.load (i32.const 48)))
    (local.set $lrec (i32.add (i32.load (i32.const 4)) (i32.shl (local.get $l) (i32.const 5))))
    (local.set $k (i32.load offset=8 (local.get $lrec)))
    (local.set $notX (i32.and (i32.sub (i32.shl (i32.const 1) (local.get $k)) (i32.const 1)) (i32.xor (local.get $X) (i32.const -1))))
    (local.set $x (i32.popcnt (local.get $X)))
    (local.set $b (i32.sub (local.get $k) (local.get $x)))
    (local.set $v (f64.load (i32.add (i32.load (i32.const 100)) (i32.shl (local.get $l) (i32.const 3)))))
    (local.set $wGain (i32.add (i32.load (i32.const 76)) (i32.mul (local.get $b) (i32.load (i32.const 80)))))
    ;; The row of b − 1; when b = 0 the loss is not used, and the row of b itself stands in, so
    ;; that the loads below stay within the weights (the row before them may lie before memory).
    (local.set $wLoss (select (i32.sub (local.get $wGain) (i32.load (i32.const 80))) (local.get $wGain) (i32.gt_s (local.get $b) (i32.const 0))))
    (local.set $mrec (i32.add (i32.load (i32.const 72)) (i32.shl (local.get $l) (i32.const 3))))
    (local.set $distinct (i32.load offset=4 (local.get $mrec)))
    (local.set $base (i32.add (i32.load (i32.const 64)) (i32.shl (i32.load offset=20 (local.get $lrec)) (i32.const 2))))
    (if (i32.le_s (i32.shl (i32.const 1) (local.get $x)) (local.get $distinct))
      (then
        (local.set $Y (local.get $X))
        (block $done
          (loop $subsets
            (local.set $cnt (f64.convert_i32_s (i32.load (i32.add (local.get $base) (i32.shl (i32.or (local.get $notX) (local.get $Y)) (i32.const 2))))))
            ;; No branch on a zero count (about half of them, unpredictable): it adds +0 to the
            ;; loss and ±0 to entries that are never −0, which changes no bit. When b = 0 the loss
            ;; is not used, and when a = 0 no entry is added to.
            (local.set $a (i32.sub (local.get $x) (i32.popcnt (local.get $Y))))
            (local.set $loss (f64.add (local.get $loss) (f64.mul (local.get $cnt) (f64.load (i32.add (local.get $wLoss) (i32.shl (local.get $a) (i32.const 3)))))))
            (local.set $m (i32.and (local.get $X) (i32.xor (local.get $Y) (i32.const -1))))
            (local.set $amount (f64.mul (f64.mul (local.get $v) (local.get $cnt)) (f64.load (i32.add (local.get $wGain) (i32.shl (i32.sub (local.get $a) (i32.const 1)) (i32.const 3))))))
            (block $gainYDone (loop $gainY
              (br_if $gainYDone (i32.eqz (local.get $m)))
              (local.set $addr (i32.add (local.get $table) (i32.shl (i32.add (local.get $entry) (i32.ctz (local.get $m))) (i32.const 3))))
              (f64.store (local.get $addr) (f64.add (f64.load (local.get $addr)) (local.get $amount)))
              (local.set $m (i32.and (local.get $m) (i32.sub (local.get $m) (i32.const 1))))
              (br $gainY)))
            (br_if $done (i32.eqz (local.get $Y)))
            (local.set $Y (i32.and (i32.sub (local.get $Y) (i32.const 1)) (local.get $X)))
            (br $subsets))))
      (else
        (local.set $first (i32.add (i32.load (i32.const 68)) (i32.shl (i32.load (local.get $mrec)) (i32.const 2))))
        (block $done
          (loop $masks
            (br_if $done (i32.ge_u (local.get $z) (local.get $distinct)))
            (local.set $Z (i32.load (i32.add (local.get $first) (i32.shl (local.get $z) (i32.const 2)))))
            (if (i32.eq (i32.and (local.get $Z) (local.get $notX)) (local.get $notX))
              (then
                (local.set $cnt (f64.convert_i32_s (i32.load (i32.add (local.get $base) (i32.shl (local.get $Z) (i32.const 2))))))
                (local.set $A (i32.and (local.get $X) (i32.xor (local.get $Z) (i32.const -1))))
                (local.set $a (i32.popcnt (local.get $A)))
                (if (i32.gt_s (local.get $b) (i32.const 0))
                  (then (local.set $loss (f64.add (local.get $loss) (f64.mul (local.get $cnt) (f64.load (i32.add (local.get $wLoss) (i32.shl (local.get $a) (i32.const 3)))))))))
                (if (i32.gt_s (local.get $a) (i32.const 0))
                  (then
                    (local.set $m (local.get $A))
                    (local.set $amount (f64.mul (f64.mul (local.get $v) (local.get $cnt)) (f64.load (i32.add (local.get $wGain) (i32.shl (i32.sub (local.get $a) (i32.const 1)) (i32.const 3))))))
                    (block $gainZDone (loop $gainZ
                      (br_if $gainZDone (i32.eqz (local.get $m)))
                      (local.set $addr (i32.add (local.get $table) (i32.shl (i32.add (local.get $entry) (i32.ctz (local.get $m))) (i32.const 3))))
                      (f64.store (local.get $addr) (f64.add (f64.load (local.get $addr)) (local.get $amount)))
                      (local.set $m (i32.and (local.get $m) (i32.sub (local.get $m) (i32.const 1))))
                      (br $gainZ)))))))
            (local.set $z (i32.add (local.get $z) (i32.const 1)))
            (br $masks)))))
    (if (i32.gt_s (local.get $b) (i32.const 0))
      (then
                    (local.set $m (local.get $notX))
                    (local.set $amount (f64.mul (f64.neg (local.get $v)) (local.get $loss)))
                    (block $lossAllDone (loop $lossAll
                      (br_if $lossAllDone (i32.eqz (local.get $m)))
                      (local.set $addr (i32.add (local.get $table) (i32.shl (i32.add (local.get $entry) (i32.ctz (local.get $m))) (i32.const 3))))
                      (f64.store (local.get $addr) (f64.add (f64.load (local.get $addr)) (local.get $amount)))
                      (local.set $m (i32.and (local.get $m) (i32.sub (local.get $m) (i32.const 1))))
                      (br $lossAll))))))

  ;; Leaf l's entry for mask X, zeroed and filled on first use; returns its first entry.
  (func $entry (param $l i32) (param $X i32) (result i32)
    (local $lrec i32) (local $k i32) (local $entry i32) (local $flag i32) (local $j i32)
    (local.set $lrec (i32.add (i32.load (i32.const 4)) (i32.shl (local.get $l) (i32.const 5))))
    (local.set $k (i32.load offset=8 (local.get $lrec)))
    (local.set $entry (i32.add (i32.load offset=16 (local.get $lrec)) (i32.mul (local.get $X) (local.get $k))))
    (local.set $flag (i32.add (i32.load (i32.const 52)) (i32.add (i32.load offset=20 (local.get $lrec)) (local.get $X))))
    (if (i32.eqz (i32.load8_u (local.get $flag)))
      (then
        (block $z (loop $zero
          (br_if $z (i32.ge_u (local.get $j) (local.get $k)))
          (f64.store (i32.add (i32.load (i32.const 48)) (i32.shl (i32.add (local.get $entry) (local.get $j)) (i32.const 3))) (f64.const 0))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $zero)))
        (call $fill (local.get $l) (local.get $X) (local.get $entry))
        (i32.store8 (local.get $flag) (i32.const 1))))
    (local.get $entry))

  ;; Adds each row's entries (rows from…from+count−1, masks from walk) to its sums: per pair of
  ;; sibling leaves the pair's entry for the parent's mask and the row's turn, per other leaf
  ;; its entry for the row's mask.
  (func (export "accumulate") (param $from i32) (param $count i32) (param $stride i32)
    (local $p i32) (local $prec i32) (local $parent i32) (local $l i32) (local $lrec i32) (local $k i32)
    (local $full i32) (local $first i32) (local $at i32) (local $clear i32) (local $pstart i32) (local $pflags i32)
    (local $r i32) (local $M i32) (local $d i32) (local $X i32) (local $entry i32) (local $left i32) (local $right i32)
    (local $j i32) (local $phi i32) (local $addr i32) (local $u i32) (local $pairTable i32) (local $table i32)
    (local $players i32) (local $sums i32) (local $rowBytes i32) (local $flag i32) (local $src i32) (local $flags i32) (local $tstart i32)
    (local.set $pairTable (i32.load (i32.const 56)))
    (local.set $table (i32.load (i32.const 48)))
    (local.set $players (i32.load (i32.const 8)))
    (local.set $sums (i32.load (i32.const 84)))
    (local.set $rowBytes (i32.shl (i32.load (i32.const 88)) (i32.const 3)))
    (block $pairsDone
      (loop $pairs
        (br_if $pairsDone (i32.ge_u (local.get $p) (i32.load (i32.const 28))))
        (local.set $prec (i32.add (i32.load (i32.const 12)) (i32.shl (local.get $p) (i32.const 4))))
        (local.set $parent (i32.load (local.get $prec)))
        (local.set $l (i32.load offset=4 (local.get $prec)))
        (local.set $pstart (i32.load offset=8 (local.get $prec)))
        (local.set $pflags (i32.add (i32.load (i32.const 60)) (i32.load offset=12 (local.get $prec))))
        (local.set $lrec (i32.add (i32.load (i32.const 4)) (i32.shl (local.get $l) (i32.const 5))))
        (local.set $k (i32.load offset=8 (local.get $lrec)))
        (local.set $full (i32.sub (i32.shl (i32.const 1) (local.get $k)) (i32.const 1)))
        (local.set $first (i32.add (local.get $players) (i32.shl (i32.load offset=12 (local.get $lrec)) (i32.const 2))))
        (local.set $at (i32.mul (local.get $parent) (local.get $stride)))
        (local.set $clear (i32.load offset=28 (i32.add (i32.load (i32.const 0)) (i32.shl (local.get $parent) (i32.const 5)))))
        (local.set $r (i32.const 0))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $count)))
            (local.set $M (i32.and (i32.load (i32.add (i32.load (i32.const 36)) (i32.shl (i32.add (local.get $at) (local.get $r)) (i32.const 2)))) (local.get $full)))
            (local.set $d (i32.load (i32.add (i32.load (i32.const 40)) (i32.shl (i32.add (local.get $at) (local.get $r)) (i32.const 2)))))
            (local.set $X (i32.add (i32.shl (local.get $M) (i32.const 1)) (local.get $d)))
            (local.set $entry (i32.add (local.get $pstart) (i32.mul (local.get $X) (local.get $k))))
            (local.set $flag (i32.add (local.get $pflags) (local.get $X)))
            (if (i32.eqz (i32.load8_u (local.get $flag)))
              (then
                ;; The left leaf's mask: all of M when the row turned left (d = 1), else M less
                ;; the parent's player; the right leaf's the other way round.
                (local.set $left (call $entry (local.get $l)
                  (i32.and (local.get $M) (i32.or (local.get $clear) (i32.sub (i32.const 0) (i32.xor (i32.xor (i32.const 1) (local.get $d)) (i32.const 1)))))))
                (local.set $right (call $entry (i32.add (local.get $l) (i32.const 1))
                  (i32.and (local.get $M) (i32.or (local.get $clear) (i32.sub (i32.const 0) (i32.xor (i32.const 1) (local.get $d)))))))
                (local.set $j (i32.const 0))
                (block $z (loop $sum
                  (br_if $z (i32.ge_u (local.get $j) (local.get $k)))
                  (f64.store (i32.add (local.get $pairTable) (i32.shl (i32.add (local.get $entry) (local.get $j)) (i32.const 3)))
                    (f64.add
                      (f64.load (i32.add (local.get $table) (i32.shl (i32.add (local.get $left) (local.get $j)) (i32.const 3))))
                      (f64.load (i32.add (local.get $table) (i32.shl (i32.add (local.get $right) (local.get $j)) (i32.const 3))))))
                  (local.set $j (i32.add (local.get $j) (i32.const 1)))
                  (br $sum)))
                (i32.store8 (local.get $flag) (i32.const 1))))
            (local.set $phi (i32.add (local.get $sums) (i32.mul (i32.add (local.get $from) (local.get $r)) (local.get $rowBytes))))
            (local.set $src (i32.add (local.get $pairTable) (i32.shl (local.get $entry) (i32.const 3))))
            (local.set $j (i32.const 0))
            (block $z (loop $add
              (br_if $z (i32.ge_u (local.get $j) (local.get $k)))
              (local.set $addr (i32.add (local.get $phi) (i32.shl (i32.load (i32.add (local.get $first) (i32.shl (local.get $j) (i32.const 2)))) (i32.const 3))))
              (f64.store (local.get $addr) (f64.add (f64.load (local.get $addr)) (f64.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 3))))))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $add)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rows)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pairs)))
    (block $singlesDone
      (loop $singles
        (br_if $singlesDone (i32.ge_u (local.get $u) (i32.load (i32.const 32))))
        (local.set $l (i32.load (i32.add (i32.load (i32.const 16)) (i32.shl (local.get $u) (i32.const 2)))))
        (local.set $lrec (i32.add (i32.load (i32.const 4)) (i32.shl (local.get $l) (i32.const 5))))
        (local.set $k (i32.load offset=8 (local.get $lrec)))
        (local.set $first (i32.add (local.get $players) (i32.shl (i32.load offset=12 (local.get $lrec)) (i32.const 2))))
        (local.set $at (i32.add (i32.load (i32.const 44)) (i32.shl (i32.mul (local.get $l) (local.get $stride)) (i32.const 2))))
        (local.set $flags (i32.add (i32.load (i32.const 52)) (i32.load offset=20 (local.get $lrec))))
        (local.set $tstart (i32.load offset=16 (local.get $lrec)))
        (local.set $r (i32.const 0))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $count)))
            (local.set $X (i32.load (i32.add (local.get $at) (i32.shl (local.get $r) (i32.const 2)))))
            (local.set $entry
              (if (result i32) (i32.load8_u (i32.add (local.get $flags) (local.get $X)))
                (then (i32.add (local.get $tstart) (i32.mul (local.get $X) (local.get $k))))
                (else (call $entry (local.get $l) (local.get $X)))))
            (local.set $phi (i32.add (local.get $sums) (i32.mul (i32.add (local.get $from) (local.get $r)) (local.get $rowBytes))))
            (local.set $src (i32.add (local.get $table) (i32.shl (local.get $entry) (i32.const 3))))
            (local.set $j (i32.const 0))
            (block $z (loop $add
              (br_if $z (i32.ge_u (local.get $j) (local.get $k)))
              (local.set $addr (i32.add (local.get $phi) (i32.shl (i32.load (i32.add (local.get $first) (i32.shl (local.get $j) (i32.const 2)))) (i32.const 3))))
              (f64.store (local.get $addr) (f64.add (f64.load (local.get $addr)) (f64.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 3))))))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $add)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rows)))
        (local.set $u (i32.add (local.get $u) (i32.const 1)))
        (br $singles))))
)
