/* coinhound: the library's version (make install names libcoinhound.so and
 * coinhound.pc after it; the soname carries its first number). */
#ifndef COINHOUND_VERSION_H
#define COINHOUND_VERSION_H

#define COINHOUND_VERSION "0.1.0"

#endif
