/*
 * callbacks.h - registration of the libmilter callback table.
 *
 * DIAGNOSTICS: callbacks_register() returns -1 if libmilter refuses.
 * BUGS: none known.
 */
#ifndef CALLBACKS_H
#define CALLBACKS_H

int	callbacks_register(void);

#endif /* CALLBACKS_H */
