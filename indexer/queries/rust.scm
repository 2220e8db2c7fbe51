; kura's Rust queries, added to tree-sitter-rust's tags.scm (see python.scm for the capture conventions).

(struct_item name: (type_identifier) @name) @symbol.struct
(enum_item name: (type_identifier) @name) @symbol.enum
(enum_variant name: (identifier) @name) @symbol.enum_member
(field_declaration name: (field_identifier) @name) @symbol.field
(function_signature_item name: (identifier) @name) @symbol.method
(const_item name: (identifier) @name) @symbol.constant
(static_item name: (identifier) @name) @symbol.variable

; `impl Type` and `impl Trait for Type` contain methods of Type.
(impl_item
  type: [
    (type_identifier) @scope.name
    (generic_type type: (type_identifier) @scope.name)
    (scoped_type_identifier name: (type_identifier) @scope.name)
  ]
  body: (_)) @scope

(use_declaration argument: (_) @import.tree) @import
(extern_crate_declaration name: (identifier) @import.module) @import

; tags.scm calls every function in a declaration_list a method; in a `mod` it is a function.
(mod_item body: (declaration_list (function_item name: (identifier) @name) @symbol.function))
