/*
 * transcript.h - what the milter records at each stage: one function
 * per callback, turning the callback's arguments and the MTA's macros
 * into transcript records (see sw_record.h for the keys).
 *
 * DIAGNOSTICS: none; a record that cannot be queued is counted by the
 * shipper and logged there.
 * BUGS: none known.
 */
#ifndef TRANSCRIPT_H
#define TRANSCRIPT_H

#include <sys/socket.h>

#include <libmilter/mfapi.h>

#include "session.h"

void	transcript_connect(struct session *, SMFICTX *, const char *host,
	    const struct sockaddr *);
void	transcript_helo(struct session *, SMFICTX *, const char *name);
void	transcript_mail(struct session *, SMFICTX *, char **argv);
void	transcript_rcpt(struct session *, SMFICTX *, char **argv);
void	transcript_data(struct session *, SMFICTX *);
void	transcript_header(struct session *, const char *name,
	    const char *value);
void	transcript_eoh(struct session *, SMFICTX *);
void	transcript_body(struct session *, const unsigned char *, size_t);
void	transcript_eom(struct session *, SMFICTX *);
void	transcript_abort(struct session *);
void	transcript_unknown(struct session *, const char *command);
void	transcript_close(struct session *);

/* The macro lists asked for at negotiation, by libmilter stage. */
extern const char transcript_macros_connect[];
extern const char transcript_macros_helo[];
extern const char transcript_macros_mail[];
extern const char transcript_macros_rcpt[];
extern const char transcript_macros_data[];
extern const char transcript_macros_eoh[];
extern const char transcript_macros_eom[];

#endif /* TRANSCRIPT_H */
