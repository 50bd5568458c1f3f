# Data movement (get_rows, set_rows, cpy, concat; kit/src/shader_data.cpp):
# the mode is SPEC0, the dtypes DT_SLOT0 / DT_SLOT6.
tessera_cl_kernel(copy copy.cl)
