-- hostile: point package.path at system directories
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment
package.path = "/etc/?"
return "changed"
