"""J0, J1, Y0 and Y1 near their zeros, with relative accuracy.

Every library's J0, J1, Y0 and Y1 (SciPy's Cephes, torch's, the generic ones) are accurate to
about ``1e-16`` absolute (SciPy's: ``x eps`` relative to the envelope ``sqrt(2 / (pi x))``
from x = 25, its phase ``x - pi/4`` rounded), so near a zero, where the value is small, many
ulp are wrong: SciPy's ``j0(52.616)`` 2733 ulp, ``j0`` at the float64 nearest its first zero
a relative error of 1 (the value is ``3e-17``: the rounding of the others). Here, for
float64 ``x`` within ``WINDOW`` of a tabulated zero or ``WINDOW_FAR`` (of the phase) of
another (functrans.primitives.special._bessel01_near_zeros picks them):

- about the first 40 zeros of each (x below about 126), Taylor's polynomial about the zero ``r``,
  ``f(r + h) = sum_{n>=1} a_n h^n``, with ``r`` in two parts (``h = (x - hi) - lo``: the
  first difference exact, one rounding) and ``a_1 = f'(r)`` from mpmath (60 digits), the
  other ``a_n`` from Bessel's equation ``x^2 f'' + x f' + (x^2 - nu^2) f = 0`` about ``r``:
  ``r^2 (n+1)(n+2) a_(n+2) = -[(n+1)(2n+1) r a_(n+1) + (n^2 + r^2 - nu^2) a_n
  + 2 r a_(n-1) + a_(n-2)]``;
- about the others below ``PHASE_END`` (1e8), the phase-amplitude form: ``J = M cos(theta)``,
  ``Y = M sin(theta)``, with the asymptotic series of the modulus and the phase themselves
  (DLMF 10.18.17-18: ``M^2 = (2 / (pi x)) sum_k m_k x^-2k``, ``theta = x - (nu/2 + 1/4) pi
  + sum_k t_k x^-(2k+1)``, the ``t_k`` from ``theta' = 2 / (pi x M^2)``; exact fractions at
  import). Near a zero the value is ``+-M sin(u)``, ``u = x - q pi + (theta - x + ...)`` the
  phase from the zero's ``q pi`` (``q`` a quarter-integer), which has to be right to about
  ``eps |u|``: ``x - q pi`` in parts (``pi`` in four, of 26, 26, 26 and 53 bits: ``q pi``'s
  first three exact for ``q < 2^25``), ``t_0 / x`` in two parts, the other terms (``t_1 /
  x^3``: ``3e-8`` at ``x = 127``) rounded once, so ``u`` about ``eps t_1 / x^3`` off; where
  ``|u| < 16 / x^3`` (within about ``1e-5`` of a zero at ``x = 127``, ``1e-11`` at ``1e4``)
  all the terms in two parts (``u`` about ``1e-32`` off). Within 2.5 ulp (3.4e-16 relative)
  of mpmath, also at the float64 nearest a zero. Before session 50 the phase was ``atan(Q /
  P)`` of Hankel's ``P`` and ``Q`` with its ``O(x^-3)`` rounded: up to 2e-9 relative at the
  float64 nearest the 42nd zero.

The zeros (``hi``, ``lo``) and the slopes: mpmath at 60 digits (``besseljzero``,
``besselyzero``; ``J0' = -J1``, ``J1' = J0``, ``Y0' = -Y1``, ``Y1' = Y0`` at a zero).
"""

from __future__ import annotations

import math

import numpy as np

J0 = np.array([  # zeros 1..40: hi, lo, f'
    (2.404825557695773, -1.176691651530894e-16, -0.5191474972894667),
    (5.520078110286311, 8.088597146146722e-17, 0.34026480655836816),
    (8.653727912911013, -2.92812607320779e-16, -0.27145229992838193),
    (11.791534439014281, 2.812956912778735e-16, 0.23245983136472478),
    (14.930917708487787, -7.070514505983074e-16, -0.20654643307799603),
    (18.071063967910924, -9.658048089426209e-16, 0.18772880304043943),
    (21.21163662987926, 4.947077428784068e-16, -0.17326589422922986),
    (24.352471530749302, 9.169067133951066e-16, 0.16170155068925002),
    (27.493479132040253, 1.6191941793302084e-15, -0.15218121377059454),
    (30.634606468431976, -5.390359852115135e-16, 0.1441659776863732),
    (33.77582021357357, 1.454224241250595e-15, -0.13729694340850299),
    (36.917098353664045, -9.276489358569364e-16, 0.13132462666866793),
    (40.05842576462824, -2.6782651477149736e-16, -0.12606949712727342),
    (43.19979171317673, 8.55713303876733e-16, 0.12139862477175015),
    (46.341188371661815, -9.07797413846536e-16, -0.11721119889066538),
    (49.482609897397815, 2.382582551864974e-15, 0.1134291926164298),
    (52.624051841115, -1.7558469541662502e-15, -0.10999114304627804),
    (55.76551075501998, -2.2474605782970157e-15, 0.10684788825471286),
    (58.90698392608094, 1.8824761533828545e-15, -0.10395957286936208),
    (62.048469190227166, 3.5462261037501757e-15, 0.10129349893394325),
    (65.18996480020687, -5.461873855822896e-15, -0.0988225538011999),
    (68.3314693298568, -3.3933989376620325e-15, 0.09652404046467991),
    (71.47298160359374, -4.706746819114939e-15, -0.0943787939846764),
    (74.61450064370183, 6.888551420729803e-15, 0.0923705048235533),
    (77.75602563038805, 2.8877288913457725e-15, -0.09048519416295771),
    (80.89755587113763, 1.2818595160472018e-15, 0.08871080244096978),
    (84.0390907769382, -5.246120359886215e-15, -0.0870368633240976),
    (87.18062984364116, -2.988671082559626e-15, 0.08545424291091484),
    (90.32217263721049, -5.335106266169793e-15, -0.08395492928345757),
    (93.46371878194478, -3.2760886018946086e-15, 0.0825318613083098),
    (96.60526795099626, 4.374792211855971e-15, -0.08117878831953207),
    (99.7468198586806, 1.0538352759948803e-15, 0.07989015430874274),
    (102.8883742541948, -6.386566600790279e-15, -0.0786610017193049),
    (106.02993091645162, -3.317345989748548e-15, 0.07748689103965989),
    (109.17148964980538, 3.156801612233754e-15, -0.0763638332182914),
    (112.3130502804949, 3.608337008909888e-15, 0.075288232552055),
    (115.45461265366694, -2.2956846125801694e-15, -0.0742568381822715),
    (118.59617663087253, -2.7586630945145657e-15, 0.07326670270620797),
    (121.73774208795096, 1.1038676047146455e-16, -0.07231514670236978),
    (124.87930891323295, -9.750739573078885e-16, 0.07139972819623201),
])
J1 = np.array([  # zeros 1..40: hi, lo, f'
    (3.8317059702075125, -1.5269184090088067e-16, -0.402759395702553),
    (7.015586669815619, -9.414165653410389e-17, 0.30011575252613254),
    (10.173468135062722, 4.482162274768888e-16, -0.2497048770578432),
    (13.323691936314223, 2.600408064718813e-16, 0.21835940724787295),
    (16.470630050877634, -1.619019544798128e-15, -0.1964653714686572),
    (19.615858510468243, -1.004445634526616e-15, 0.18006337534431555),
    (22.760084380592772, -4.925749373614922e-16, -0.16718460047381806),
    (25.903672087618382, 4.894530726419825e-16, 0.15672498625285222),
    (29.046828534916855, -2.799892014010185e-16, -0.14801110997277755),
    (32.189679910974405, -1.5481609125503839e-15, 0.14060579818398225),
    (35.33230755008387, -3.2611649318496424e-15, -0.1342112403100007),
    (38.474766234771614, 7.193676286738655e-16, 0.12861662207206995),
    (41.61709421281445, 5.700452680227534e-16, -0.12366796076983713),
    (44.75931899765282, 2.3276041019911167e-15, 0.11924981201068947),
    (47.90146088718545, -3.46654782460118e-15, -0.11527369412016795),
    (51.04353518357151, 2.7050774005019414e-15, 0.1116704968592113),
    (54.18555364106132, 2.2014149402021727e-15, -0.10838534894368256),
    (57.32752543790101, 1.4475427878291946e-15, 0.10537405539523521),
    (60.46945784534749, -2.384395520551382e-16, -0.10260056710339717),
    (63.61135669848123, 1.7663673646888642e-15, 0.10003514681152326),
    (66.75322673409849, 3.245960673429821e-15, -0.09765301578317331),
    (69.89507183749578, -3.3751535816297383e-15, 0.09543333902053534),
    (73.03689522557383, 5.533153216564837e-15, -0.09335845329045497),
    (76.17869958464146, -6.4981027931822064e-15, 0.09141327215592128),
    (79.3204871754763, -2.5086501675588216e-15, -0.08958482196485568),
    (82.46225991437356, -4.833006597692519e-15, 0.08786187603941047),
    (85.60401943635023, 2.932033215668997e-15, -0.08623466341328839),
    (88.7457671449263, 2.322204476527005e-15, 0.08469463480342414),
    (91.88750425169499, -6.527554548302299e-15, -0.08323427298222627),
    (95.0292318080447, -3.668959254661093e-15, 0.0818469379264858),
    (98.17095073079078, 3.4801090981385157e-15, -0.08052673944840286),
    (101.31266182303872, 6.440841344215011e-15, 0.07926843172451872),
    (104.45436579128275, 5.954599019603359e-15, -0.07806732540794852),
    (107.59606325950917, 6.905220426274634e-15, 0.0769192139613909),
    (110.73775478089921, 6.013639970267598e-15, -0.07582031156916715),
    (113.87944084759499, 5.9427131265554445e-15, 0.07476720053707459),
    (117.02112189889243, -6.517814951378015e-15, -0.07375678651285726),
    (120.16279832814901, -5.0948414250535056e-15, 0.0727862601892388),
    (123.30447048863572, 2.774961424901912e-15, -0.0718530644088473),
    (126.44613869851659, 4.094756230027168e-15, 0.07095486579303743),
])
Y0 = np.array([  # zeros 1..40: hi, lo, f'
    (0.8935769662791675, 2.6596231539720385e-17, 0.8794208024971948),
    (3.957678419314858, -1.0764340697562706e-16, -0.40254267177502423),
    (7.086051060301773, -8.835285723085408e-17, 0.3000976149104752),
    (10.222345043496418, -7.967395050308809e-16, -0.2497012375146848),
    (13.361097473872764, -6.626109493712529e-16, 0.21835829659767134),
    (16.50092244152809, 1.0187464212445755e-15, -0.19646493789501676),
    (19.64130970088794, -1.3738085245174177e-15, 0.18006317633754418),
    (22.782028047291558, 1.5905927758681248e-15, -0.16718449805101074),
    (25.922957653180923, -2.254067267232836e-16, 0.15672492885024078),
    (29.064030252728397, 9.25191637912007e-16, -0.14801107561113566),
    (32.20520411649328, 3.240071558384457e-15, 0.14060577650750067),
    (35.34645230521432, -1.7946483769852148e-16, -0.13421122603883404),
    (38.48775665308154, -2.8605001688824427e-15, 0.12861661233697969),
    (41.62910446621381, -2.5898201559288505e-15, -0.1236679539272368),
    (44.77048660722199, 3.128883685479239e-15, 0.11924980707648117),
    (47.91189633151648, -1.872940744008161e-16, -0.11527369048247928),
    (51.05332855236236, 3.0794215881803318e-15, 0.11167049412502907),
    (54.19477936108706, -3.3243904990808156e-15, -0.10838534685331364),
    (57.33624570476628, 3.2797243736533967e-15, 0.10537405377275154),
    (60.47772516422348, -3.037651063162438e-15, -0.10260056582695608),
    (63.61921579772038, -4.11271759756511e-17, 0.10003514579506073),
    (66.76071602872965, -1.952138708528326e-15, -0.09765301496481257),
    (69.9022245639385, -3.941694226500793e-15, 0.09543333835507291),
    (73.04374033239208, -2.73606823890868e-15, -0.0933584527443856),
    (76.18526243968061, 7.114542575733719e-16, 0.09141327170408027),
    (79.326790133004, 4.4138199142194565e-15, -0.0895848215881126),
    (82.4683227742155, 4.395413381453362e-15, 0.08786187572305966),
    (85.6098598187967, 2.8720628107439624e-15, -0.08623466314590914),
    (88.75140079929514, 3.940998248039172e-15, 0.08469463457606238),
    (91.89294531215718, -8.74839830131273e-16, -0.08323427278779993),
    (95.0344930071712, 6.346948920543193e-15, 0.08184693775934736),
    (98.17604357893667, -4.0765763921272903e-16, -0.08052673930401433),
    (101.31759675991941, -2.8290336148743474e-15, 0.07926843159920759),
    (104.4591523147597, -4.558702848284214e-15, -0.0780673252987227),
    (107.60071003557695, -5.799650488778572e-15, 0.07691921386579745),
    (110.74226973807325, -6.675241901145945e-15, -0.07582031148518313),
    (113.88383125828165, -6.666416508630545e-15, 0.07476720046302246),
    (117.025394449838, -6.673473316256326e-15, -0.07375678644733853),
    (120.16695918168061, 5.37771538373339e-16, 0.07278626013108186),
    (123.3085253361014, -2.8762020054060493e-15, -0.07185306435706597),
])
Y1 = np.array([  # zeros 1..40: hi, lo, f'
    (2.197141326031017, -4.8259835876454966e-17, 0.5207864124022675),
    (5.429681040794135, 4.162514026670377e-16, -0.3403180455234406),
    (8.596005868331169, 2.8415838340063664e-16, 0.27145987731153354),
    (11.749154830839881, 2.9466381668409186e-17, -0.23246176601703875),
    (14.897442128336726, -6.072148995506809e-16, 0.2065471103565926),
    (18.043402276727857, -1.4499889213148965e-15, -0.1877290919149097),
    (21.188068934142212, 1.0863038864317323e-15, 0.17326603526911988),
    (24.33194257135691, 2.940063934282991e-16, -0.1617016266586241),
    (27.475294980449224, -4.0165306757179716e-16, 0.1521812578603752),
    (30.618286491641115, -1.0574311760765617e-16, -0.14416600481816505),
    (33.76101779610933, -2.8223590896878435e-15, 0.13729696091187468),
    (36.90355531614295, 1.014839093361194e-15, -0.13132463840786532),
    (40.045944640266875, 1.4745105429742688e-15, 0.1260695052608898),
    (43.18821809739321, 4.4259249833535923e-16, -0.12139863056512397),
    (46.33039925070169, -2.0415813997220564e-15, 0.11721120311639725),
    (49.4725056799241, -1.597334643729254e-15, -0.11342919576304929),
    (52.61455076717296, 2.701530035056589e-16, 0.10999114543220125),
    (55.756544879208136, -6.256406009895238e-16, -0.10684789009306134),
    (58.89849617143305, 1.6541789559067591e-15, 0.10395957430616416),
    (62.040411147670696, -2.3946152151246612e-15, -0.10129350007136315),
    (65.18229505809562, -4.3385212562413775e-15, 0.09882255471205974),
    (68.3241521874033, -1.1590118071513662e-15, -0.09652404120176643),
    (71.46598606698612, 4.844100997758426e-15, 0.09437879458683968),
    (74.60779963351172, 3.021721841822405e-15, -0.09237050531978457),
    (77.74959534906121, -5.516216711169277e-15, 0.09048519457516634),
    (80.89137529327611, 5.418438641094382e-16, -0.08871080278590619),
    (84.03314123483831, -6.167640392377797e-15, 0.08703686361470539),
    (87.17489468749571, 6.962531477797456e-15, -0.08545424315729493),
    (90.31663695439649, -2.3759196185772584e-15, 0.08395492949356477),
    (93.45836916348223, -6.217909081345709e-16, -0.08253186148846214),
    (96.60009229597568, 2.960933115575453e-15, 0.08117878847478732),
    (99.74180720948509, 6.269677489513037e-15, -0.0798901544431798),
    (102.88351465687592, 6.096088869102838e-15, 0.07866100183623596),
    (106.02521530178777, 7.975261463192756e-16, -0.07748689114179201),
    (109.16690973147217, -2.8279410853248736e-15, 0.0763638333078506),
    (112.30859846747592, 6.3245062969108426e-15, -0.07528823263088218),
    (115.45028197458022, 8.969652617532563e-16, 0.07425683825189738),
    (118.59196066831908, -2.690394304482696e-16, -0.07326670276791182),
    (121.7336349213336, 3.1611489024393483e-15, 0.07231514675722586),
    (124.87530506876725, 6.962519033949551e-15, -0.07139972824514662),
])

TABLES = {"j0": J0, "j1": J1, "y0": Y0, "y1": Y1}
ORDER = {"j0": 0, "j1": 1, "y0": 0, "y1": 1}
# the k-th zero is near (k - OFFSET) pi (McMahon's beta: (k + nu/2 - 1/4) pi for J,
# (k + nu/2 - 3/4) pi for Y), so k = round(x / pi + OFFSET)
OFFSET = {"j0": 0.25, "j1": -0.25, "y0": 0.75, "y1": 0.25}

DEGREE = 12        # Taylor's polynomial about a tabulated zero: a_1 .. a_12
WINDOW = 0.05      # the fix within this of a tabulated zero (in x)
WINDOW_FAR = 0.02  # and of the others (in the reduced phase; their form costs more)
# (mu - 1) / 8, mu = 4 nu^2: McMahon's zero beta - (mu - 1) / (8 beta), beta = (k - OFFSET) pi
MCMAHON = {"j0": -0.125, "j1": 0.375, "y0": -0.125, "y1": 0.375}

PHASE_END = 1e8    # (q pi's first three parts exact products below 2^25 pi)

# pi in four parts (26, 26, 26 and 53 bits; mpmath): q P0, q P1, q P2 exact for q of 27 bits
# (the quarter-integers below 2^25)
_PI = (3.1415926218032837, 3.1786509424591713e-08, 1.2246467864107189e-16,
       1.27366343270219e-24)
_MINUS_PI = tuple(-c for c in _PI)
_TWO_PI = (0.6366197723675814, -3.935735335036497e-17)   # 2/pi in two parts (mpmath)
# u = theta - (m + PHASE_OFFSET) pi is the phase from the m-th zero of the phase form (J's
# zeros where theta = (m + 1/2) pi, Y's where theta = m pi; theta = x - (nu/2 + 1/4) pi + ...)
PHASE_OFFSET = {"j0": 0.75, "j1": 1.25, "y0": 0.25, "y1": 0.75}


def _phase_series(nu, terms):
    """The asymptotic series of the modulus and phase (M^2 = (2 / (pi x)) sum_k m_k x^-2k,
    theta = x - (nu/2 + 1/4) pi + sum_k t_k x^-(2k+1)) as exact fractions: m_k from the
    product form of M^2 (DLMF 10.18.17), t_k by integrating theta' = 2 / (pi x M^2) term by
    term (1 / sum_k m_k z^k = sum_k b_k z^k, t_k = -b_(k+1) / (2k + 1))."""
    from fractions import Fraction
    mu = 4 * nu * nu
    m = [Fraction(1)]
    for k in range(1, terms + 1):
        m.append(m[-1] * Fraction(2 * k - 1, 2 * k) * Fraction(mu - (2 * k - 1) ** 2, 4))
    b = [Fraction(1)]
    for k in range(1, terms + 1):
        b.append(-sum(m[j] * b[k - j] for j in range(1, k + 1)))
    return m, [-b[k + 1] / (2 * k + 1) for k in range(terms)]


def _dd(v):
    hi = float(v)
    return hi, float(v - type(v)(hi))


# per order: the modulus' m_1 .. m_4 and the phase's t_0 .. t_5 (the cheap form: the first
# term left out below 5e-19 relative of M^2 and 3e-23 of the phase from x = 120), and for the
# exact one t_1 .. t_3 in two parts, t_4 .. t_10 (the first left out below 1e-33 from 120)
_MODULUS, _MODULUS_2_PI, _PHASE, _PHASE_DD, _PHASE_TAIL = {}, {}, {}, {}, {}
for _nu in (0, 1):
    _m, _t = _phase_series(_nu, 11)
    _MODULUS[_nu] = [float(c) for c in _m[1:5]]
    _MODULUS_2_PI[_nu] = [c * _TWO_PI[0] for c in _MODULUS[_nu]]
    _PHASE[_nu] = [float(c) for c in _t[:6]]
    _PHASE_DD[_nu] = [_dd(c) for c in _t[1:4]]
    _PHASE_TAIL[_nu] = [float(c) for c in _t[4:11]]
del _nu, _m, _t


def _taylor(r, slope, nu):
    """a_1 .. a_DEGREE of f(r + h) = sum a_n h^n about a zero r of a solution f of Bessel's
    equation of order nu with f'(r) = slope (the recurrence of the module's docstring)."""
    a = [0.0, 0.0, 0.0, slope]   # (a_-2, a_-1, a_0, a_1)
    r2 = r * r
    for n in range(0, DEGREE - 1):   # a_(n+2)
        an2, an1, an, ap1 = a[-4], a[-3], a[-2], a[-1]
        a.append(-((n + 1) * (2 * n + 1) * r * ap1 + (n * n + r2 - nu * nu) * an
                   + 2.0 * r * an1 + an2) / (r2 * (n + 1) * (n + 2)))
    return a[3:]


# per function: hi, lo, the half-width of the window (narrower about the first zeros of Y0
# and Y1, whose Taylor series converge within r: Y's logarithm at 0), and the coefficients
# (DEGREE x 40: a row per power)
COEFFICIENTS = {}
for _name, _t in TABLES.items():
    _nu = ORDER[_name]
    COEFFICIENTS[_name] = (
        np.ascontiguousarray(_t[:, 0]), np.ascontiguousarray(_t[:, 1]),
        np.minimum(WINDOW, _t[:, 0] / 20.0),
        np.array([_taylor(float(r), float(d), _nu) for r, _, d in _t]).T.copy())
del _name, _t, _nu

# the same with a row (column of coefficients) for k = 0 in front and k = 41 behind, a zero
# at inf (so that no element is in its window): indexed by k itself, not k - 1
COEFFICIENTS_PADDED = {}
for _name, (_hi, _lo, _win, _coef) in COEFFICIENTS.items():
    _pad = np.zeros((_coef.shape[0], 1))
    COEFFICIENTS_PADDED[_name] = (
        np.concatenate(([np.inf], _hi, [np.inf])), np.concatenate(([0.0], _lo, [0.0])),
        np.concatenate(([0.0], _win, [0.0])), np.concatenate((_pad, _coef, _pad), axis=1))
del _name, _hi, _lo, _win, _coef, _pad
_ROWS_NUMPY = {_name: np.ascontiguousarray(_c[3].T) for _name, _c in COEFFICIENTS_PADDED.items()}
PHASE_K = math.floor(PHASE_END / math.pi)   # (k below it: x below PHASE_END)


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_prod(a, b):
    """a b = p + e exactly (Dekker's splitting: no fused multiply-add needed)."""
    p = a * b
    ca = 134217729.0 * a
    ah = ca - (ca - a)
    al = a - ah
    cb = 134217729.0 * b
    bh = cb - (cb - b)
    bl = b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _dd_mul(ah, al, bh, bl):
    p, e = _two_prod(ah, bh)
    e = e + (ah * bl + al * bh)
    s = p + e
    return s, e - (s - p)


def _dd_add(ah, al, bh, bl):
    s, e = _two_sum(ah, bh)
    e = e + (al + bl)
    t = s + e
    return t, e - (t - s)


class _Floats:
    """The few functions phase_values needs beyond arithmetic, on Python floats (the same
    operations as on arrays: the same bits)."""

    @staticmethod
    def round(v):
        return float(round(v))   # (half to even, as the array libraries')

    @staticmethod
    def floor(v):
        return float(math.floor(v))

    sqrt = staticmethod(math.sqrt)


_FLOATS = _Floats()


def taylor_values(xp, x, name, idx, tables):
    """f(x) by Taylor's polynomial about the tabulated zero idx of f (arrays of namespace
    xp of one shape; ``tables``: (hi, lo, coefficients as DEGREE columns) on x's device)."""
    hi, lo, cols = tables
    h = (x - xp.take(hi, idx)) - xp.take(lo, idx)
    s = xp.take(cols[-1], idx)
    for c in cols[-2::-1]:
        s = s * h + xp.take(c, idx)
    return h * s


def taylor_values_numpy(x, name, idx):
    """taylor_values on NumPy arrays (1-d), idx the zero's k (COEFFICIENTS_PADDED's)."""
    hi, lo, _, coef = COEFFICIENTS_PADDED[name]
    h = (x - hi.take(idx)) - lo.take(idx)
    rows = _ROWS_NUMPY[name].take(idx, axis=0)   # (a row of coefficients per element)
    s = rows[:, -1].copy()
    for j in range(DEGREE - 2, -1, -1):
        s *= h
        s += rows[:, j]
    return h * s


def phase_values(xp, x, name, exact=False):
    """f(x) for x in [120, PHASE_END) (elsewhere meaningless) by the phase-amplitude form
    (the module's docstring), and the phase u from the nearest zero of the form (|u| below
    about 0.02: the value there within 2 ulp). ``exact``: the phase's terms below t_0 / x in
    two parts too (about 1e-32 absolute, as the reduction; the other form's are eps of them,
    7e-24 at x = 127, so from ``16 / x^3`` down), for the elements very near a zero.
    ``x``: an array of namespace ``xp`` or, with ``xp = _FLOATS``, a Python float."""
    nu = ORDER[name]
    off = PHASE_OFFSET[name]
    m = xp.round(x * (1.0 / math.pi) - off)
    q = m + off   # (a quarter-integer)
    h, lo = _two_sum(x - q * _PI[0], q * _MINUS_PI[1])   # (x - q P0 exact: Sterbenz)
    h, e = _two_sum(h, q * _MINUS_PI[2])
    lo = lo + e
    w = 1.0 / x
    z = w * w
    t = _PHASE[nu]
    if exact:
        p, e = _two_prod(x, w)
        wl = ((1.0 - p) - e) * w   # (1/x = w + wl)
        zh, zl = _dd_mul(w, wl, w, wl)
        tail = _PHASE_TAIL[nu]
        s = tail[-1]
        for c in tail[-2::-1]:
            s = s * zh + c
        sh, sl = s, 0.0 * s
        for ch, cl in _PHASE_DD[nu][::-1]:
            sh, sl = _dd_add(ch, cl, *_dd_mul(zh, zl, sh, sl))
        sh, sl = _dd_add(t[0], 0.0, *_dd_mul(zh, zl, sh, sl))
        ph, pl = _dd_mul(w, wl, sh, sl)
    else:
        ph = t[0] / x
        p, e = _two_prod(ph, x)
        s = t[-1]
        for c in t[-2:0:-1]:
            s = s * z + c
        pl = ((t[0] - p) - e) / x + s * (z * w)   # (t_0 / x = ph + its first term)
    h, e = _two_sum(h, ph)
    lo = lo + e
    rest = lo + (pl - q * _PI[3])
    u = h + rest
    ul = rest - (u - h)
    # sin(u) for |u| <= 0.02 (the Taylor terms to u^7: the next below 1e-19 relative), with
    # the rounding of u carried
    u2 = u * u
    sin_u = u + (ul + u * (u2 * (-1.0 / 6.0 + u2 * (1.0 / 120.0 + u2 * (-1.0 / 5040.0)))))
    # M = sqrt((2/pi + z sum_(k>=1) (2/pi) m_k z^(k-1)) / x), 2/pi in two parts (two
    # roundings before the square root)
    a = _MODULUS_2_PI[nu]
    big_a = a[-1]
    for c in a[-2::-1]:
        big_a = big_a * z + c
    amp = xp.sqrt((_TWO_PI[0] + (_TWO_PI[1] + big_a * z)) / x)
    # J = M cos(theta) = -(-1)^m M sin(u), Y = M sin(theta) = (-1)^m M sin(u)
    odd = m - 2.0 * xp.floor(m * 0.5)   # (m % 2.0, exactly; NumPy's remainder costs 15 ns
    #                                      an element, a fifth of this whole function)
    sign = (2.0 * odd - 1.0) if name[0] == "j" else (1.0 - 2.0 * odd)
    return sign * (amp * sin_u), u


# COEFFICIENTS_PADDED's rows as Python floats, for fixed_float: per k, (hi, lo, half-width,
# a_1 .. a_DEGREE)
_ROWS = {name: [(float(hi[k]), float(lo[k]), float(win[k]), tuple(coef[:, k].tolist()))
                for k in range(len(hi))]
         for name, (hi, lo, win, coef) in COEFFICIENTS_PADDED.items()}
_TOP = len(J0) + 1   # (k from here: the phase form's)


def exact_below(x):
    """The phase form's exact version where |u| < this (16 / x^3; see phase_values)."""
    return 16.0 / (x * x * x)


def _taylor_float(name, x, k=None):
    """taylor_values_numpy's polynomial at one Python float x about the tabulated zero k
    (x's nearest), or None outside its window."""
    if k is None:
        k = round(x * (1.0 / math.pi) + OFFSET[name])
    hi, lo, win, coef = _ROWS[name][k]
    if not abs(x - hi) <= win:
        return None
    h = (x - hi) - lo
    s = coef[-1]
    for c in coef[-2::-1]:
        s = s * h + c
    return h * s


def _phase_float(name, x):
    """The phase form at one Python float x (beyond the table, below PHASE_END), or None
    outside the window of its zero: fixed_numpy's steps."""
    v, u = phase_values(_FLOATS, x, name)
    if not abs(u) <= WINDOW_FAR:
        return None
    if abs(u) < exact_below(x):
        v = phase_values(_FLOATS, x, name, exact=True)[0]
    return v


def fixed_float(name, x):
    """f(x) (f = j0, j1, y0 or y1, x >= 0 a Python float) by this module's forms if x is in
    the window of a zero, else None: fixed_numpy's, one element at a time (the same
    operations: the same bits)."""
    if not x < PHASE_END:   # (and nan)
        return None
    k = round(x * (1.0 / math.pi) + OFFSET[name])
    if k < _TOP:
        return _taylor_float(name, x, k)
    if not abs((x - (k - OFFSET[name]) * math.pi) + MCMAHON[name] / x) \
            <= WINDOW_FAR + 1e-4:
        return None
    return _phase_float(name, x)


# (up to these many elements of a kind one at a time in Python floats: the phase form about
# 3.5 us an element, 80 us by NumPy's ~95 calls on a few; Taylor's 0.9 us, 25 us)
_FEW_FAR, _FEW_TABLE = 24, 16


def _one_at_a_time(fn, name, x, at):
    pos, val = [], []
    for i, v in zip(at.tolist(), x.take(at).tolist()):
        f = fn(name, v)
        if f is not None:
            pos.append(i)
            val.append(f)
    return np.array(pos, dtype=np.intp), np.array(val, dtype=np.float64)


def fixed_numpy(name, x, far_ok=None):
    """The indices of the elements of x (1-d float64 NumPy, finite, x >= 0) in the window of
    a zero of f (f = j0, j1, y0 or y1) below PHASE_END, and f there by this module's forms
    (a few of a kind one at a time in Python floats: the same bits). ``far_ok``: a mask of
    the elements beyond the table that may be in a phase window (the caller's bound, at
    least those within WINDOW_FAR), else McMahon's phase within WINDOW_FAR + 1e-4 of a zero
    picks them (the phase form then keeps those within WINDOW_FAR: the same elements)."""
    hi, lo, win, coef = COEFFICIENTS_PADDED[name]
    k = np.rint(x * (1.0 / math.pi) + OFFSET[name])
    idx = np.minimum(k, PHASE_K).astype(np.intp)   # (nan: not in a window below)
    row = np.minimum(idx, _TOP)   # (k >= _TOP: the row of inf)
    tab = (np.abs(x - hi.take(row)) <= win.take(row)).nonzero()[0]
    if len(tab) > _FEW_TABLE:
        at, out = [tab], [taylor_values_numpy(x.take(tab), name, idx.take(tab))]
    else:
        pos, val = _one_at_a_time(_taylor_float, name, x, tab)
        at, out = [pos], [val]
    if idx.max() >= _TOP:
        # (the zero's McMahon approximation beta - (mu - 1) / (8 beta) within 1e-5: about
        # (x - beta) + (mu - 1) / (8 x) of the phase from it)
        far = (idx >= _TOP) & (x < PHASE_END)
        if far_ok is None:
            far &= np.abs((x - (k - OFFSET[name]) * math.pi) + MCMAHON[name] / x) \
                <= WINDOW_FAR + 1e-4
        else:
            far &= far_ok
        far = far.nonzero()[0]
        if len(far) <= _FEW_FAR:
            pos, val = _one_at_a_time(_phase_float, name, x, far)
            at.append(pos)
            out.append(val)
        else:
            xf = x.take(far)
            v, u = phase_values(np, xf, name)
            au = np.abs(u)
            near = (au <= WINDOW_FAR).nonzero()[0]
            very = (au < exact_below(xf)).nonzero()[0]
            if len(very):
                v[very] = phase_values(np, xf.take(very), name, exact=True)[0]
            at.append(far.take(near))
            out.append(v.take(near))
    return np.concatenate(at), np.concatenate(out)
