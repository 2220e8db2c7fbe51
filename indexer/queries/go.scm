; kura's Go queries, added to tree-sitter-go's tags.scm (see python.scm for the capture conventions).

(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [
        (type_identifier) @receiver
        (pointer_type (type_identifier) @receiver)
        (generic_type type: (type_identifier) @receiver)
        (pointer_type (generic_type type: (type_identifier) @receiver))
      ]))
  name: (field_identifier) @name) @symbol.method

(type_spec name: (type_identifier) @name type: (struct_type)) @symbol.struct
(type_spec name: (type_identifier) @name type: (interface_type)) @symbol.interface

(field_declaration name: (field_identifier) @name) @symbol.field
(method_elem name: (field_identifier) @name) @symbol.method

(const_spec name: (identifier) @name) @symbol.constant
(source_file (var_declaration (var_spec name: (identifier) @name) @symbol.variable))

(import_spec path: (_) @import.module) @import
