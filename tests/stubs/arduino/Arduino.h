/* Stand-in for the Arduino core API used by mcuforge's generated projects (tests only). */
#ifndef MCUFORGE_STUB_ARDUINO_H
#define MCUFORGE_STUB_ARDUINO_H

#include <stddef.h>
#include <stdint.h>

unsigned long millis(void);
unsigned long micros(void);
void delay(unsigned long ms);

class StubSerial {
public:
    void begin(unsigned long baud);
    size_t write(const uint8_t *data, size_t len);
    void flush(void);
    operator bool() const { return true; }
};

extern StubSerial Serial;

void setup(void);
void loop(void);

#endif
