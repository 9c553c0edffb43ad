/*
 * bench_policy.c - the cost of evaluating the rules of one stage with
 * 10, 100 and 1,000 rules, side by side in one run.  Not a test: it
 * prints figures (make -C tests/bench bench).
 *
 * The rules mix what operators write: exact senders, CIDR lists, glob
 * and regular-expression matches, a login map, a rate.  The facts match
 * none of them, so every rule is evaluated: the worst case per callback.
 *
 * DIAGNOSTICS: exits 1 if a generated rules file does not load.
 * BUGS: none known.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy.h"

/* write_rules - a rules file of n rules at stage mail */

static int
write_rules(const char *dir, int n, char *path, size_t pathsize)
{
	FILE	*fp;
	int	 i;

	snprintf(path, pathsize, "%s/bench-%d.rules", dir, n);
	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fprintf(fp, "list trusted = { \"192.0.2.0/24\", \"2001:db8::/32\", "
	    "\"198.51.100.7\" }\n");
	for (i = 0; i < n; i++) {
		switch (i % 5) {
		case 0:
			fprintf(fp, "rule r%d mail sender == \"user%d@example."
			    "com\" -> reject 550 5.7.1 \"no %%{sender}\"\n", i, i);
			break;
		case 1:
			fprintf(fp, "rule r%d mail client.addr in { \"10.%d.0.0/"
			    "16\", \"2001:db8:%x::/48\" } and not client.addr in "
			    "@trusted -> tempfail 451 4.7.1 \"later\"\n", i,
			    i % 256, i);
			break;
		case 2:
			fprintf(fp, "rule r%d mail sender like \"*@spam%d.example"
			    "\" -> reject 550 5.7.1 \"spam\"\n", i, i);
			break;
		case 3:
			fprintf(fp, "rule r%d mail helo =~ \"^bad%d[.-]\" and "
			    "not tls -> reject 550 5.7.1 \"helo\"\n", i, i);
			break;
		default:
			fprintf(fp, "rule r%d mail rate(client.addr, 1h) > %d "
			    "and param[\"SIZE\"] > 1000000 -> tempfail 451 "
			    "4.7.1 \"slow\"\n", i, 1000 + i);
			break;
		}
	}
	return fclose(fp);
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int
main(void)
{
	static const int sizes[] = { 10, 100, 1000 };
	char	 dir[] = "/tmp/smtpwarden-bench.XXXXXX", path[512];
	char	 err[8192];
	char	*argv[] = { "<alice@example.com>", "SIZE=2048", NULL };
	struct conn_facts cf;
	struct txn_facts tf;
	struct pol_facts pf = { &cf, &tf };
	size_t	 i;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	memset(&cf, 0, sizeof cf);
	memset(&tf, 0, sizeof tf);
	cf.cf_addr = strdup("203.0.113.9");
	cf.cf_helo = strdup("client.example.net");
	cf.cf_name = strdup("client.example.net");
	tf.tf_sender = strdup("alice@example.com");
	facts_params_set(tf.tf_params, &tf.tf_nparams, argv);

	printf("%8s %12s %12s %10s\n", "rules", "ns/callback", "ns/rule",
	    "callbacks");
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		struct pol_ruleset *rs;
		struct pol_verdict v;
		long	 iters = 2000000 / sizes[i], k;
		double	 t0, t1;

		if (write_rules(dir, sizes[i], path, sizeof path) < 0 ||
		    (rs = policy_load(path, err, sizeof err)) == NULL) {
			fprintf(stderr, "%s", err);
			return 1;
		}
		/* Warm up, then measure. */
		for (k = 0; k < iters / 10; k++)
			(void)policy_evaluate(rs, PS_MAIL, &pf, &v);
		t0 = now_ns();
		for (k = 0; k < iters; k++)
			(void)policy_evaluate(rs, PS_MAIL, &pf, &v);
		t1 = now_ns();
		printf("%8d %12.0f %12.1f %10ld\n", sizes[i],
		    (t1 - t0) / iters, (t1 - t0) / iters / sizes[i], iters);
		policy_release(rs);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}
