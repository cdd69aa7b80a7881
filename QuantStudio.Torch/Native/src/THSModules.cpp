// Support for the managed module system: swapping a parameter's data while keeping its identity.
#include "common.h"

// Like `param.data = new_data` in Python: the tensor keeps its autograd identity (optimizers and
// modules that hold it stay valid) while its storage, shape, strides and dtype become new_data's.
// Module.to(channels_last / dtype / device) relies on this.
QS_EXPORT int THSTensor_set_data(Tensor t, Tensor new_data) { QS_CATCH_STATUS(t->set_data(*new_data);) }
