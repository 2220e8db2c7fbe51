; kura's TypeScript/TSX-only queries (shared ones are in ecmascript.scm).

(class_declaration
  name: (type_identifier) @name) @symbol.class

(type_alias_declaration
  name: (type_identifier) @name) @symbol.class

(enum_declaration
  name: (identifier) @name) @symbol.enum

(enum_body
  [
    (property_identifier) @name @symbol.enum_member
    (enum_assignment name: (property_identifier) @name) @symbol.enum_member
  ])

(internal_module
  name: [(identifier) (nested_identifier)] @name) @symbol.namespace

(public_field_definition
  name: [(property_identifier) (private_property_identifier)] @name) @symbol.field

(property_signature
  name: (property_identifier) @name) @symbol.property
