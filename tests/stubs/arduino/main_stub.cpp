/* Host driver for an Arduino sketch (tests only): Serial to stdout, a clock that
 * advances 1 ms per micros() call, setup() then MCUFORGE_STUB_LOOPS x loop(). */
#include <stdio.h>
#include "Arduino.h"

#ifndef MCUFORGE_STUB_LOOPS
#define MCUFORGE_STUB_LOOPS 100
#endif

StubSerial Serial;
static unsigned long now_us;

unsigned long millis(void) { return now_us / 1000ul; }
unsigned long micros(void) { now_us += 1000ul; return now_us; }
void delay(unsigned long ms) { now_us += ms * 1000ul; }
void StubSerial::begin(unsigned long baud) { (void)baud; }
size_t StubSerial::write(const uint8_t *data, size_t len) { return fwrite(data, 1, len, stdout); }
void StubSerial::flush(void) { fflush(stdout); }

int main(void)
{
    int i;
    setup();
    for (i = 0; i < MCUFORGE_STUB_LOOPS; i++) {
        loop();
    }
    fflush(stdout);
    return 0;
}
