; kura's Python queries, added to tree-sitter-python's tags.scm.
; Capture conventions (all languages): @symbol.<kind> + @name define a symbol, <kind> being a
; name from indexer/kinds.py; @receiver prefixes the qualname; @scope + @scope.name name a container
; that is not itself a symbol; @import + @import.module (+ @import.name) record an import
; (@import.path: a dotted path whose last segment is the name; @import.tree: a Rust use tree).
; tags.scm's @definition.<kind> captures count too, but where both tag one name, ours win.

; Class attributes, including annotated dataclass fields.
(class_definition
  body: (block
    (expression_statement
      (assignment left: (identifier) @name) @symbol.field)))

(import_statement name: (dotted_name) @import.module) @import
(import_statement name: (aliased_import name: (dotted_name) @import.module)) @import

(import_from_statement
  module_name: (_) @import.module
  name: [(dotted_name) @import.name (aliased_import name: (dotted_name) @import.name)]) @import
(import_from_statement
  module_name: (_) @import.module
  (wildcard_import) @import.name) @import
