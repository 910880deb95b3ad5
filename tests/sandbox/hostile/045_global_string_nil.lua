-- hostile: delete the shared global string
-- expect: error read-only
-- defence: base globals read-only
string = nil
