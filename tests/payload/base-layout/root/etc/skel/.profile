# ~/.profile: login shell setup.
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
