;; The tree walk of src/core/model/trees.ts (marginsOf) for XGBoost-rule ensembles padded to
;; full binary trees, as WebAssembly: no bounds check per load, float32 compared as float32.
;; Compiled by scripts/build-wasm.mjs into tree-kernel-wasm.ts (a unit test recompiles this
;; file and checks the two agree).
;;
;; Memory, laid out by trees.ts (`wasmLayout`), all offsets in bytes:
;;   table   16 bytes per tree: depth (i32), first node, leaf base (first leaf − (2^depth − 1) × 8)
;;   nodes    8 bytes per node: feature × 4 with bit 31 set when a missing value goes right (i32),
;;            then the threshold as the smallest float32 ≥ the split value (f32)
;;   leaves   8 bytes per leaf (f64)
;;   block    rows × width float32 features (row-major)
;;   out      one f64 per row; each tree's leaf value is added to it
;; Node i's children are 2i+1 (left) and 2i+2 (right); a row goes right when x >= threshold,
;; or when x is missing (NaN) and bit 31 is set. Trees are added in order, so the sums are the
;; same, bit for bit, as the JavaScript kernels'.
(module
  (memory (import "env" "memory") 1)

  ;; Rows of a block with no missing value: one comparison per node.
  (func (export "addComplete")
    (param $trees i32) (param $table i32) (param $block i32) (param $rows i32) (param $rowBytes i32) (param $out i32)
    (local $entry i32) (local $end i32) (local $depth i32) (local $nodes i32) (local $leaves i32)
    (local $row i32) (local $o i32) (local $r i32) (local $node i32) (local $level i32) (local $at i32)
    (if (i32.or (i32.eqz (local.get $trees)) (i32.eqz (local.get $rows))) (then (return)))
    (local.set $entry (local.get $table))
    (local.set $end (i32.add (local.get $table) (i32.shl (local.get $trees) (i32.const 4))))
    (loop $tree
      (local.set $depth (i32.load (local.get $entry)))
      (local.set $nodes (i32.load offset=4 (local.get $entry)))
      (local.set $leaves (i32.load offset=8 (local.get $entry)))
      (local.set $row (local.get $block))
      (local.set $o (local.get $out))
      (local.set $r (local.get $rows))
      (loop $each
        (local.set $node (i32.const 0))
        (local.set $level (local.get $depth))
        (block $leaf
          (br_if $leaf (i32.eqz (local.get $level)))
          (loop $walk
            (local.set $at (i32.add (local.get $nodes) (i32.shl (local.get $node) (i32.const 3))))
            (local.set $node
              (i32.add
                (i32.add (i32.shl (local.get $node) (i32.const 1)) (i32.const 1))
                (f32.ge
                  (f32.load (i32.add (local.get $row) (i32.and (i32.load (local.get $at)) (i32.const 0x7fffffff))))
                  (f32.load offset=4 (local.get $at)))))
            (local.set $level (i32.sub (local.get $level) (i32.const 1)))
            (br_if $walk (local.get $level))))
        (f64.store (local.get $o)
          (f64.add (f64.load (local.get $o))
                   (f64.load (i32.add (local.get $leaves) (i32.shl (local.get $node) (i32.const 3))))))
        (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (local.set $r (i32.sub (local.get $r) (i32.const 1)))
        (br_if $each (local.get $r)))
      (local.set $entry (i32.add (local.get $entry) (i32.const 16)))
      (br_if $tree (i32.lt_u (local.get $entry) (local.get $end)))))

  ;; Rows of a block with missing values: a missing value goes to the node's default side.
  (func (export "addMissing")
    (param $trees i32) (param $table i32) (param $block i32) (param $rows i32) (param $rowBytes i32) (param $out i32)
    (local $entry i32) (local $end i32) (local $depth i32) (local $nodes i32) (local $leaves i32)
    (local $row i32) (local $o i32) (local $r i32) (local $node i32) (local $level i32) (local $at i32)
    (local $packed i32) (local $x f32)
    (if (i32.or (i32.eqz (local.get $trees)) (i32.eqz (local.get $rows))) (then (return)))
    (local.set $entry (local.get $table))
    (local.set $end (i32.add (local.get $table) (i32.shl (local.get $trees) (i32.const 4))))
    (loop $tree
      (local.set $depth (i32.load (local.get $entry)))
      (local.set $nodes (i32.load offset=4 (local.get $entry)))
      (local.set $leaves (i32.load offset=8 (local.get $entry)))
      (local.set $row (local.get $block))
      (local.set $o (local.get $out))
      (local.set $r (local.get $rows))
      (loop $each
        (local.set $node (i32.const 0))
        (local.set $level (local.get $depth))
        (block $leaf
          (br_if $leaf (i32.eqz (local.get $level)))
          (loop $walk
            (local.set $at (i32.add (local.get $nodes) (i32.shl (local.get $node) (i32.const 3))))
            (local.set $packed (i32.load (local.get $at)))
            (local.set $x (f32.load (i32.add (local.get $row) (i32.and (local.get $packed) (i32.const 0x7fffffff)))))
            (local.set $node
              (i32.add
                (i32.add (i32.shl (local.get $node) (i32.const 1)) (i32.const 1))
                (i32.or
                  (f32.ge (local.get $x) (f32.load offset=4 (local.get $at)))
                  (i32.and (f32.ne (local.get $x) (local.get $x)) (i32.shr_u (local.get $packed) (i32.const 31))))))
            (local.set $level (i32.sub (local.get $level) (i32.const 1)))
            (br_if $walk (local.get $level))))
        (f64.store (local.get $o)
          (f64.add (f64.load (local.get $o))
                   (f64.load (i32.add (local.get $leaves) (i32.shl (local.get $node) (i32.const 3))))))
        (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (local.set $r (i32.sub (local.get $r) (i32.const 1)))
        (br_if $each (local.get $r)))
      (local.set $entry (i32.add (local.get $entry) (i32.const 16)))
      (br_if $tree (i32.lt_u (local.get $entry) (local.get $end))))))
