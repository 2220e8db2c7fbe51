; kura's C# queries. tree-sitter-c-sharp installs its tags.scm beside the package rather than in it;
; extraction uses it when found, and these patterns stand on their own either way
; (see python.scm for the capture conventions).

(namespace_declaration name: (_) @name) @symbol.namespace
(file_scoped_namespace_declaration name: (_) @name) @symbol.namespace
(class_declaration name: (identifier) @name) @symbol.class
(record_declaration name: (identifier) @name) @symbol.class
(struct_declaration name: (identifier) @name) @symbol.struct
(interface_declaration name: (identifier) @name) @symbol.interface
(enum_declaration name: (identifier) @name) @symbol.enum
(enum_member_declaration name: (identifier) @name) @symbol.enum_member
(method_declaration name: (identifier) @name) @symbol.method
(local_function_statement name: (identifier) @name) @symbol.function
(constructor_declaration name: (identifier) @name) @symbol.constructor
(destructor_declaration name: (identifier) @name) @symbol.method
(property_declaration name: (identifier) @name) @symbol.property
(event_declaration name: (identifier) @name) @symbol.event
(delegate_declaration name: (identifier) @name) @symbol.function
(field_declaration (variable_declaration (variable_declarator name: (identifier) @name))) @symbol.field

(using_directive [(identifier) (qualified_name)] @import.module .) @import
