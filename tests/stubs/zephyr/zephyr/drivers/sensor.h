/* Stand-in for <zephyr/drivers/sensor.h> (tests only). */
#ifndef MCUFORGE_STUB_ZEPHYR_SENSOR_H
#define MCUFORGE_STUB_ZEPHYR_SENSOR_H

#include <stdint.h>
#include "../device.h"

enum sensor_channel {
    SENSOR_CHAN_ACCEL_X,
    SENSOR_CHAN_ACCEL_Y,
    SENSOR_CHAN_ACCEL_Z,
    SENSOR_CHAN_ACCEL_XYZ,
    SENSOR_CHAN_GYRO_X,
    SENSOR_CHAN_GYRO_Y,
    SENSOR_CHAN_GYRO_Z,
    SENSOR_CHAN_GYRO_XYZ,
    SENSOR_CHAN_MAGN_X,
    SENSOR_CHAN_MAGN_Y,
    SENSOR_CHAN_MAGN_Z,
    SENSOR_CHAN_MAGN_XYZ
};

struct sensor_value {
    int32_t val1;
    int32_t val2;
};

int sensor_sample_fetch(const struct device *dev);
int sensor_channel_get(const struct device *dev, enum sensor_channel chan,
                       struct sensor_value *val);

static inline double sensor_value_to_double(const struct sensor_value *val)
{
    return (double)val->val1 + (double)val->val2 / 1000000.0;
}

#endif
