-- hostile: raise nil as the error object
-- expect: error nil
-- defence: host reports non-string error objects by type
error(nil)
