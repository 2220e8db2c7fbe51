; kura's Java queries, added to tree-sitter-java's tags.scm (see python.scm for the capture conventions).

(constructor_declaration name: (identifier) @name) @symbol.constructor
(enum_declaration name: (identifier) @name) @symbol.enum
(enum_constant name: (identifier) @name) @symbol.enum_member
(record_declaration name: (identifier) @name) @symbol.class
(annotation_type_declaration name: (identifier) @name) @symbol.interface
(field_declaration declarator: (variable_declarator name: (identifier) @name)) @symbol.field
(constant_declaration declarator: (variable_declarator name: (identifier) @name)) @symbol.constant

(import_declaration (scoped_identifier) @import.path .) @import
(import_declaration (scoped_identifier) @import.module (asterisk)) @import
(import_declaration (asterisk) @import.name)
