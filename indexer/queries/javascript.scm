; kura's JavaScript-only queries (shared ones are in ecmascript.scm).

(field_definition
  property: [(property_identifier) (private_property_identifier)] @name) @symbol.field
