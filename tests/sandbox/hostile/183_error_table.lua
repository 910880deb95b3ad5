-- hostile: raise a table as the error object
-- expect: error error object is a table value
-- defence: host accepts only string error values
error({code = 1})
