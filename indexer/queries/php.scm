; kura's PHP queries, added to tree-sitter-php's tags.scm (see python.scm for the capture conventions).

(namespace_definition name: (namespace_name) @name) @symbol.namespace
(method_declaration name: (name) @name) @symbol.method
(enum_declaration name: (name) @name) @symbol.enum
(enum_case name: (name) @name) @symbol.enum_member
(const_declaration (const_element (name) @name)) @symbol.constant
(property_declaration (property_element (variable_name (name) @name))) @symbol.property

(namespace_use_declaration
  (namespace_use_clause [(name) (qualified_name)] @import.path)) @import
(namespace_use_declaration
  (namespace_name) @import.module
  (namespace_use_group (namespace_use_clause [(name) (qualified_name)] @import.name))) @import

; `require 'x.php'`, `require_once __DIR__ . '/x.php'`, `include('x.php')`: the string is the module.
(require_expression [(_ (string_content) @import.module) (_ (_ (string_content) @import.module))]) @import
(require_once_expression [(_ (string_content) @import.module) (_ (_ (string_content) @import.module))]) @import
(include_expression [(_ (string_content) @import.module) (_ (_ (string_content) @import.module))]) @import
(include_once_expression [(_ (string_content) @import.module) (_ (_ (string_content) @import.module))]) @import
