; kura's C queries, added to tree-sitter-c's tags.scm (see python.scm for the capture conventions).

(struct_specifier name: (type_identifier) @name body: (_)) @symbol.struct
(union_specifier name: (type_identifier) @name body: (_)) @symbol.struct
(enum_specifier name: (type_identifier) @name body: (_)) @symbol.enum
(enumerator name: (identifier) @name) @symbol.enum_member
(type_definition type: (struct_specifier) declarator: (type_identifier) @name) @symbol.struct
(type_definition type: (enum_specifier) declarator: (type_identifier) @name) @symbol.enum
(field_declaration declarator: [
  (field_identifier) @name
  (pointer_declarator declarator: (field_identifier) @name)
  (array_declarator declarator: (field_identifier) @name)
]) @symbol.field

(preproc_def name: (identifier) @name) @symbol.constant
(preproc_function_def name: (identifier) @name) @symbol.function

(preproc_include path: (_) @import.module) @import
