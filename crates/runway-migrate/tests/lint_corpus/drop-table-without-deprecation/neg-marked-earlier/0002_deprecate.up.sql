COMMENT ON TABLE orders IS 'Deprecated: replaced by purchases';
