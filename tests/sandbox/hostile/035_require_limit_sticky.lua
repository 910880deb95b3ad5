-- hostile: require a module that loops forever, under pcall: the loader must not swallow the limit
-- expect: limit instructions
-- args: --scripts $DIR --instr-limit 1000000 --time-limit 10000
-- defence: limits are sticky through require
return pcall(require, "115_while_true_instr")
