; kura's C++ queries, added to tree-sitter-cpp's tags.scm (see python.scm for the capture conventions).

(namespace_definition name: (_) @name) @symbol.namespace
(class_specifier name: (type_identifier) @name body: (_)) @symbol.class
(struct_specifier name: (type_identifier) @name body: (_)) @symbol.struct
(union_specifier name: (type_identifier) @name body: (_)) @symbol.struct
(enum_specifier name: (type_identifier) @name body: (_)) @symbol.enum
(enumerator name: (identifier) @name) @symbol.enum_member
(type_definition type: (struct_specifier) declarator: (type_identifier) @name) @symbol.struct
(field_declaration declarator: [
  (field_identifier) @name
  (pointer_declarator declarator: (field_identifier) @name)
  (reference_declarator (field_identifier) @name)
  (array_declarator declarator: (field_identifier) @name)
]) @symbol.field

; Out-of-line members `Type Class::method(...)`: Class prefixes the qualname.
(function_declarator
  declarator: (qualified_identifier
    scope: (_) @receiver
    name: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)) @symbol.function

(preproc_def name: (identifier) @name) @symbol.constant
(preproc_function_def name: (identifier) @name) @symbol.function

(preproc_include path: (_) @import.module) @import
(using_declaration (qualified_identifier) @import.path) @import

(function_declarator declarator: (destructor_name) @name) @symbol.method
